/**
 * Coded errors shared by every layer. The code is the contract: callers, the UI and tests match on
 * `code`, never on the message text. Lives in core/api/ because the renderer shows these codes too.
 */
export const ErrorCodes = [
  // general and local API
  // BAD_ARGUMENT: the caller passed a value that can never work. WRONG_STATE: the call is fine, but
  // not now or not here (closed, busy, read-only). NOT_FOUND: what was asked for does not exist
  // (yet) in the data at hand; the area codes (DATASET_NOT_FOUND, …) say so more precisely.
  'BAD_ARGUMENT',
  'WRONG_STATE',
  'NOT_FOUND',
  'BAD_REQUEST',
  'UNKNOWN_METHOD',
  'UNTRUSTED_SENDER',
  'INTERNAL',
  // engine (core/engine)
  'SPEC_INVALID',
  'SPEC_UNKNOWN_LAYER',
  'SPEC_NON_FINITE',
  'SPEC_TOO_LARGE',
  'SPEC_MISMATCH',
  'ENGINE_BACKEND_UNAVAILABLE',
  'ENGINE_OUT_OF_MEMORY',
  'ENGINE_FAILED',
  'ENGINE_STOPPED',
  'COMPRESSION_CORRUPT',
  'CHECKPOINT_CORRUPT',
  'CHECKPOINT_VERSION',
  // datasets (core/data)
  'DATASET_MALFORMED_INPUT',
  'DATASET_TRUNCATED_INPUT',
  'DATASET_MISMATCHED_INPUT',
  'DATASET_BAD_HEADER',
  'DATASET_NOT_FOUND',
  'DATASET_INTEGRITY',
  'DATASET_UNAVAILABLE',
  'DATASET_DISK_CAP',
  'DATASET_STORE_BUSY',
  'DATASET_INDEX_CORRUPT',
  'DATASET_IMPORT_ABORTED',
  // wire and swarm (core/net, core/wire)
  'WIRE_TOO_LARGE',
  'WIRE_MALFORMED',
  'WIRE_INVALID',
  'WIRE_BAD_SIGNATURE',
  'WIRE_UNEXPECTED',
  'WIRE_RATE_LIMIT',
  'WIRE_OVERLOAD',
  'WIRE_BACKPRESSURE',
  'WIRE_CHANNEL_CLOSED',
  'WIRE_BAD_REPLICATION',
  'PEER_BANNED',
  'PEER_LIMIT',
  'PEER_UNKNOWN',
  'IDENTITY_CORRUPT',
  'IDENTITY_IO',
  // project host and ledger (core/host, core/ledger)
  'PROJECT_INVALID',
  'PROJECT_NOT_FOUND',
  // start() on a host that runs (or ran) already: wrong state, not a bad argument
  'HOST_ALREADY_RUNNING',
  'LEDGER_CORRUPT',
  'LEDGER_CHECKPOINT_MISMATCH',
  'LEDGER_CREDIT_MISMATCH',
  'LEDGER_OUT_OF_ORDER',
  'LEDGER_UNAVAILABLE',
  'UPDATE_INVALID',
  'UPDATE_MISMATCH',
  'UPDATE_TOO_LARGE',
  'UPDATE_UNAVAILABLE',
  'VERIFY_FAILED',
  'VERIFY_CHECKPOINT_MISMATCH',
  'VERIFY_OUTER_STATE_MISMATCH',
  'VERIFY_OUTER_UPDATE_MISMATCH',
  'VERIFY_CREDIT_MISMATCH',
  'VERIFY_RECEIPT_MISMATCH',
  'VERIFY_UPDATE_UNAVAILABLE',
  'VERIFY_LEDGER_UNAVAILABLE',
  // governance (core/ledger/governance.ts, docs/governance.md)
  'VERIFY_UNAPPROVED_CHANGE',
  'VERIFY_GOVERNANCE_MISMATCH',
  'VERIFY_VOTE_INVALID',
  // a receipted vote the ledger's decided tally does not count (docs/governance.md, "Vote receipts")
  'VERIFY_VOTE_OMITTED',
  // a vote receipt that is not the host's signature over that vote
  'VOTE_RECEIPT_INVALID',
  'PROPOSAL_NOT_FOUND',
  'PROPOSAL_CLOSED',
  'VOTE_INVALID',
  'VOTE_INELIGIBLE',
  'VOTE_DUPLICATE',
  'TERMS_NOT_ACCEPTED',
  'EXPORT_NOT_ALLOWED',
  // aggregation (core/aggregate)
  'AGGREGATE_NO_UPDATES',
  'AGGREGATE_TOO_MANY_UPDATES',
  'AGGREGATE_LENGTH_MISMATCH',
  'AGGREGATE_BAD_WEIGHT',
  'AGGREGATE_CORRUPT_UPDATE',
  'AGGREGATE_BAD_CONFIG',
  // contributor node and local API (core/node, core/server, core/cli client commands)
  'SETTINGS_INVALID',
  'STATE_CORRUPT',
  'STATE_IO',
  'STATE_STALE',
  'UNAUTHORIZED',
  'FORBIDDEN_ORIGIN',
  'FORBIDDEN_HOST',
  'FORBIDDEN_SITE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'NODE_NOT_RUNNING',
] as const

export type ErrorCode = (typeof ErrorCodes)[number]

export class TandemError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TandemError'
    this.code = code
  }
}

export function isTandemError(err: unknown): err is TandemError {
  return err instanceof TandemError
}
