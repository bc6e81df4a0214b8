/**
 * Why a connection failed: the peer's fault (bad frames) or the network's. Only the first earns a
 * ban. Protomux and compact-encoding throw plain Errors with these messages on malformed frames.
 * Hypercore seldom errors the stream with a coded HypercoreError; bad block data in particular
 * never does (it only emits `verification-error`, handled by replication-guard.ts), so the codes
 * below are a backstop, not the main path.
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
