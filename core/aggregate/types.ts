/**
 * Shapes shared by every aggregation rule. An update is one contributor's pseudo-gradient Δ_i,
 * either the bytes of core/engine/compress/codec.ts (what the host downloads) or an already dense
 * Float32Array (tests, the host's own checks); the weight is samples × reputation, chosen by the host.
 */
import { TandemError, type ErrorCode } from '../api/errors.js'

export interface WeightedUpdate {
  update: Uint8Array | Float32Array
  /** Non-negative and finite. Zero keeps the update in the diagnostics but gives it no influence. */
  weight: number
}

export type AggregationRule = 'mean' | 'median' | 'trimmed-mean' | 'centered-clip' | 'multi-krum'

export interface UpdateDiagnostics {
  index: number
  weight: number
  /** ‖Δ_i‖ */
  norm: number
  /** ‖Δ_i − aggregate‖ */
  distance: number
  /** cos(Δ_i, aggregate); 0 when either vector is zero. */
  cosine: number
  /**
   * The update's share of the aggregate, in [0, 1], summed over updates ≤ 1. Mean: w_i / W.
   * Median and trimmed mean: its share at each coordinate, averaged over coordinates. Centered
   * clipping: w_i·min(1, τ/d_i) / W at the last iteration (the rest of the weight stays on the
   * previous iterate). Multi-Krum: w_i / W_selected when selected, else 0.
   */
  effectiveWeight: number
  /** Centered clipping: its distance exceeded τ at the last iteration. Always false elsewhere. */
  clipped: boolean
  /** Multi-Krum: among the m best scores. Elsewhere: effectiveWeight > 0. */
  selected: boolean
  /** Multi-Krum only: sum of squared distances to its nearest neighbours. */
  score?: number
}

export interface AggregateResult {
  rule: AggregationRule
  aggregate: Float32Array
  updates: UpdateDiagnostics[]
  totalWeight: number
  /** Rule parameters as actually used (defaults filled in), for the receipt and the verifier. */
  params: Record<string, number | number[]>
}

export interface ChunkOptions {
  /** Coordinates decoded at a time. The result does not depend on it (bit-identical). */
  chunkSize?: number
  /** Every update must have this many parameters. */
  expectedLength?: number
}

/** A coded aggregation error; updateIndex names the offending update when there is one. */
export class AggregationError extends TandemError {
  readonly updateIndex: number | undefined

  constructor(code: ErrorCode, message: string, updateIndex?: number, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause })
    this.name = 'AggregationError'
    this.updateIndex = updateIndex
  }
}

export function badConfig(message: string): never {
  throw new AggregationError('AGGREGATE_BAD_CONFIG', message)
}
