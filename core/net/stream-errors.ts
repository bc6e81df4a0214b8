/**
 * Why a connection failed: the peer's fault (bad frames, bad signatures in replication) or the
 * network's. Only the first earns a ban. Protomux and compact-encoding throw plain Errors with
 * these messages on malformed frames; hypercore's replication throws HypercoreErrors with codes.
 */
const PEER_FAULT_MESSAGES = [
  'Out of bounds',
  'Invalid open message',
  'Invalid reject message',
  'Remote exceeded backlog',
  'Array is too big',
  'Unknown type',
]

const PEER_FAULT_CODES = new Set(['INVALID_SIGNATURE', 'INVALID_CHECKSUM', 'INVALID_OPERATION'])

export function isPeerFault(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') return PEER_FAULT_CODES.has(code)
  return PEER_FAULT_MESSAGES.some((m) => err.message.startsWith(m))
}
