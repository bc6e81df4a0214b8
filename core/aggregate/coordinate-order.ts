/**
 * Order statistics at one coordinate across the updates, for the median and the trimmed mean.
 *
 * Each value is turned into one float64 sort key: the float32 bit pattern mapped to an unsigned
 * integer that orders like the number (negative patterns inverted, positive ones with the sign bit
 * set), times 2^21, plus the update index. Keys are unique integers below 2^53, so they compare
 * exactly, native numeric sort works on them, and equal values are ordered by update index. That
 * is the only tie rule, and since equal values are equal, it can change which update gets the
 * credit (the share) but never the aggregate.
 *
 * The weighted median uses a weighted quickselect (linear on average, instead of sorting 100
 * values a million times); if the partitioning goes badly (values chosen to defeat the pivot rule)
 * it falls back to sorting the remaining range, so the worst case stays O(m log m).
 */
const INDEX_SPAN = 2 ** 21

export class CoordinateOrder {
  private readonly keys: Float64Array
  private readonly wts: Float64Array
  private readonly scratch: Float64Array
  private readonly active: Int32Array
  private readonly weights: Float64Array
  /** Sum of the active weights, in update order. */
  readonly total: number
  private readonly roundLimit: number

  constructor(active: readonly number[], weights: Float64Array) {
    const m = active.length
    this.active = Int32Array.from(active)
    this.weights = weights
    this.keys = new Float64Array(m)
    this.wts = new Float64Array(m)
    this.scratch = new Float64Array(m)
    let total = 0
    for (const i of active) total += weights[i] as number
    this.total = total
    this.roundLimit = 2 * Math.ceil(Math.log2(m + 1)) + 8
  }

  private load(bits: Uint32Array[], j: number): void {
    const { keys, wts, active, weights } = this
    for (let k = 0; k < active.length; k++) {
      const i = active[k] as number
      const u = (bits[i] as Uint32Array)[j] as number
      // Branch-free (signs are random, so a branch mispredicts half the time): negative patterns
      // are inverted, positive ones get the sign bit.
      keys[k] = ((u ^ ((u >> 31) | 0x80000000)) >>> 0) * INDEX_SPAN + i
      wts[k] = weights[i] as number
    }
  }

  /**
   * Weighted median at coordinate j: the midpoint of the lower and upper weighted medians (the
   * smallest values whose cumulative weight reaches, respectively exceeds, half the total), so
   * equal weights give the textbook median, averaging the middle two for an even count. Cumulative
   * weights within 1e-12 of half count as equal to it. shares[i] gets 1 (or ½ each) for the
   * update(s) the value came from.
   */
  median(rows: Float32Array[], bits: Uint32Array[], j: number, shares: Float64Array): number {
    this.load(bits, j)
    const m = this.active.length
    const half = this.total / 2
    const tol = this.total * 1e-12
    const { p, cum } = this.select(half - tol)
    const lo = this.keys[p] as number
    const iLo = lo % INDEX_SPAN
    const vLo = (rows[iLo] as Float32Array)[j] as number
    if (cum > half + tol || p === m - 1) {
      shares[iLo] = (shares[iLo] as number) + 1
      return vLo
    }
    // Exactly half the weight lies at or below vLo: the median sits halfway to the next value.
    let next = Infinity
    for (let k = p + 1; k < m; k++) next = Math.min(next, this.keys[k] as number)
    const iHi = next % INDEX_SPAN
    shares[iLo] = (shares[iLo] as number) + 0.5
    shares[iHi] = (shares[iHi] as number) + 0.5
    return (vLo + ((rows[iHi] as Float32Array)[j] as number)) / 2
  }

  /**
   * Position p (after partial ordering: every key before p is smaller, every key after larger) of
   * the first key whose cumulative weight reaches target, with that cumulative weight.
   */
  private select(target: number): { p: number; cum: number } {
    const { keys, wts } = this
    let lo = 0
    let hi = keys.length - 1
    let below = 0
    for (let round = 0; lo < hi; round++) {
      if (round > this.roundLimit) return this.sortedSelect(lo, hi, below, target)
      const pivot = medianOfThree(keys, wts, lo, (lo + hi) >>> 1, hi)
      let store = lo
      let wl = 0
      for (let k = lo; k < hi; k++) {
        if ((keys[k] as number) < pivot) {
          swap(keys, wts, k, store)
          wl += wts[store] as number
          store++
        }
      }
      swap(keys, wts, store, hi)
      const pw = wts[store] as number
      if (below + wl >= target) hi = store - 1
      else if (below + wl + pw >= target) return { p: store, cum: below + wl + pw }
      else {
        below += wl + pw
        lo = store + 1
      }
    }
    return { p: lo, cum: below + (wts[lo] as number) }
  }

  private sortedSelect(lo: number, hi: number, below: number, target: number) {
    const { keys, wts } = this
    keys.subarray(lo, hi + 1).sort()
    let cum = below
    for (let k = lo; k <= hi; k++) {
      const w = this.weights[(keys[k] as number) % INDEX_SPAN] as number
      wts[k] = w
      cum += w
      if (cum >= target) return { p: k, cum }
    }
    return { p: hi, cum }
  }

  /**
   * Weighted trimmed mean at coordinate j: removes `trimMass` of weight from each end (the boundary
   * update counted in part) and averages the rest by weight. With equal weights and an integer
   * number of trimmed updates this is the textbook trimmed mean. shares[i] gets its fraction of the
   * kept weight.
   */
  trimmedMean(
    rows: Float32Array[],
    bits: Uint32Array[],
    j: number,
    trimMass: number,
    shares: Float64Array,
  ): number {
    this.load(bits, j)
    const m = this.active.length
    const keys = this.keys.subarray(0, m).sort()
    const keep = this.scratch
    const upper = this.total - trimMass
    const tol = this.total * 1e-12
    let cum = 0
    let sum = 0
    let kept = 0
    for (let k = 0; k < m; k++) {
      const i = (keys[k] as number) % INDEX_SPAN
      const w = this.weights[i] as number
      let c = Math.min(cum + w, upper) - Math.max(cum, trimMass)
      if (c < tol) c = 0 // slivers left by rounding must not let an extreme value back in
      keep[k] = c
      cum += w
      if (c > 0) {
        sum += c * ((rows[i] as Float32Array)[j] as number)
        kept += c
      }
    }
    for (let k = 0; k < m; k++) {
      const c = keep[k] as number
      if (c > 0) {
        const i = (keys[k] as number) % INDEX_SPAN
        shares[i] = (shares[i] as number) + c / kept
      }
    }
    return sum / kept
  }
}

function swap(keys: Float64Array, wts: Float64Array, a: number, b: number): void {
  const k = keys[a] as number
  keys[a] = keys[b] as number
  keys[b] = k
  const w = wts[a] as number
  wts[a] = wts[b] as number
  wts[b] = w
}

/** Moves the median of keys[a], keys[b], keys[c] (with its weight) to position c; returns it. */
function medianOfThree(keys: Float64Array, wts: Float64Array, a: number, b: number, c: number) {
  const x = keys[a] as number
  const y = keys[b] as number
  const z = keys[c] as number
  const mid = x < y ? (y < z ? b : x < z ? c : a) : x < z ? a : y < z ? c : b
  if (mid !== c) swap(keys, wts, mid, c)
  return keys[c] as number
}
