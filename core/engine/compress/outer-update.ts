/**
 * Compressed outer updates (docs/eval-design.md, "Compressed outer updates to contributors"). The
 * host does not publish the outer step's result θ′ as the next checkpoint; it publishes
 * U = C(θ′ − θ + e) with the project's compression C and its own error-feedback residual e, and the
 * next checkpoint is DEFINED as θ + D(U). Every element is one float32 operation on float32 inputs
 * (a Float32Array store rounds each result once), so every machine that holds θ and U gets the same
 * bits; the ledger's hash of the next checkpoint then checks the result.
 *
 *   corrected_i = f32(θ′_i − θ_i) + e_i            (two roundings, both fixed by IEEE 754)
 *   U           = C(corrected)                      (quantize.ts: deterministic JavaScript)
 *   next_i      = θ_i + D(U)_i
 *   e′_i        = corrected_i − D(U)_i              (what was not sent is sent later)
 */
import { TandemError } from '../../api/errors.js'
import { decode, encode } from './codec.js'
import { compressOnce, type CompressionConfig } from './error-feedback.js'
import { densify } from './quantize.js'

export interface OuterUpdate {
  /** U, encoded as codec.ts bytes (what contributors download). */
  bytes: Uint8Array
  /** θ + D(U): the next checkpoint. */
  next: Float32Array
  /** e′: the host's residual entering the next round. */
  residual: Float32Array
}

function sameLength(what: string, a: Float32Array, n: number): void {
  if (a.length !== n)
    throw new TandemError('SPEC_MISMATCH', `${what} has ${a.length} values, the model ${n}`)
}

/** U, θ + D(U) and e′ from the outer step's target θ′, the checkpoint θ and the residual e. */
export function encodeOuterUpdate(
  target: Float32Array,
  current: Float32Array,
  residual: Float32Array,
  cfg: CompressionConfig,
): OuterUpdate {
  const n = current.length
  sameLength('the outer step', target, n)
  sameLength('the host residual', residual, n)
  const step = new Float32Array(n)
  for (let i = 0; i < n; i++) step[i] = (target[i] as number) - (current[i] as number)
  const corrected = new Float32Array(n)
  for (let i = 0; i < n; i++) corrected[i] = (step[i] as number) + (residual[i] as number)
  const encoded = compressOnce(corrected, cfg)
  const sent = densify(encoded)
  const next = addDecoded(current, sent)
  const left = new Float32Array(n)
  for (let i = 0; i < n; i++) left[i] = (corrected[i] as number) - (sent[i] as number)
  return { bytes: encode(encoded), next, residual: left }
}

function addDecoded(current: Float32Array, sent: Float32Array): Float32Array {
  const next = new Float32Array(current.length)
  for (let i = 0; i < current.length; i++) next[i] = (current[i] as number) + (sent[i] as number)
  return next
}

/**
 * θ + D(U). The bytes come from the ledger (peer input): a corrupt or wrongly sized encoding is
 * COMPRESSION_CORRUPT, never a partial result.
 */
export function applyOuterUpdate(current: Float32Array, bytes: Uint8Array): Float32Array {
  return addDecoded(current, densify(decode(bytes, current.length)))
}
