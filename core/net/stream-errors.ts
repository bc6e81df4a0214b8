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

/**
 * Replication-channel faults that reset the connection but are not banned on the first one: a bad
 * replication handshake (`INVALID_CAPABILITY`, hypercore's replicator `onopen`) is what garbage on a
 * hypercore channel looks like, but it depends on the handshake hash of this very connection, so
 * one could come from a peer whose stream was disturbed rather than a hostile one. The node counts
 * them per remote identity (fault-tally.ts) and bans past a small threshold.
 */
const REPLICATION_FAULT_CODES = new Set(['INVALID_CAPABILITY'])

function codeOf(err: unknown): unknown {
  return err instanceof Error ? (err as { code?: unknown }).code : undefined
}

export function isPeerFault(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = codeOf(err)
  if (typeof code === 'string') return PEER_FAULT_CODES.has(code)
  return PEER_FAULT_MESSAGES.some((m) => err.message.startsWith(m))
}

export function isReplicationFault(err: unknown): boolean {
  const code = codeOf(err)
  return typeof code === 'string' && REPLICATION_FAULT_CODES.has(code)
}
