/**
 * Per-update quantities the scorer uses, accumulated chunk by chunk in float64, each sum in
 * coordinate order so the chunk size cannot change them.
 */
import { rowStats, sumSquares } from './kernels.js'
import type { UpdateDiagnostics } from './types.js'

export class DiagnosticsAccumulator {
  readonly normSq: Float64Array
  readonly distSq: Float64Array
  readonly dot: Float64Array
  aggSq = 0
  private readonly stats = new Float64Array(3)
  private readonly withNorms: boolean

  constructor(count: number, withNorms = true) {
    this.normSq = new Float64Array(count)
    this.distSq = new Float64Array(count)
    this.dot = new Float64Array(count)
    this.withNorms = withNorms
  }

  /** Starts distances and dot products over for a new aggregate; norms are kept. */
  resetAggregate(): void {
    this.distSq.fill(0)
    this.dot.fill(0)
    this.aggSq = 0
  }

  /** Adds one chunk: rows[i] are the updates, agg the aggregate on the same coordinates. */
  add(rows: Float32Array[], agg: Float32Array, norms = this.withNorms): void {
    const stats = this.stats
    for (let i = 0; i < rows.length; i++) {
      stats[0] = this.distSq[i] as number
      stats[1] = this.dot[i] as number
      stats[2] = this.normSq[i] as number
      rowStats(rows[i] as Float32Array, agg, stats, norms)
      this.distSq[i] = stats[0] as number
      this.dot[i] = stats[1] as number
      this.normSq[i] = stats[2] as number
    }
    this.aggSq = sumSquares(agg, this.aggSq)
  }

  finish(
    weights: Float64Array,
    effective: ArrayLike<number>,
    extra: (i: number) => Partial<UpdateDiagnostics> = () => ({}),
  ): UpdateDiagnostics[] {
    const aggNorm = Math.sqrt(this.aggSq)
    return Array.from(weights, (weight, i) => {
      const norm = Math.sqrt(this.normSq[i] as number)
      const denom = norm * aggNorm
      const cos = denom > 0 ? (this.dot[i] as number) / denom : 0
      const e = effective[i] as number
      return {
        index: i,
        weight,
        norm,
        distance: Math.sqrt(this.distSq[i] as number),
        cosine: Math.max(-1, Math.min(1, cos)),
        effectiveWeight: e,
        clipped: false,
        selected: e > 0,
        ...extra(i),
      }
    })
  }
}
