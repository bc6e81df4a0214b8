/**
 * Per-update quantities the scorer uses, accumulated chunk by chunk in float64, each sum in
 * coordinate order so the chunk size cannot change them.
 */
import type { UpdateDiagnostics } from './types.js'

export class DiagnosticsAccumulator {
  readonly normSq: Float64Array
  readonly distSq: Float64Array
  readonly dot: Float64Array
  aggSq = 0
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
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as Float32Array
      let n2 = this.normSq[i] as number
      let d2 = this.distSq[i] as number
      let dt = this.dot[i] as number
      for (let j = 0; j < r.length; j++) {
        const x = r[j] as number
        const a = agg[j] as number
        const d = x - a
        d2 += d * d
        dt += x * a
        if (norms) n2 += x * x
      }
      this.distSq[i] = d2
      this.dot[i] = dt
      if (norms) this.normSq[i] = n2
    }
    let s = this.aggSq
    for (let j = 0; j < agg.length; j++) s += (agg[j] as number) * (agg[j] as number)
    this.aggSq = s
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
