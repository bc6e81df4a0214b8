/**
 * Coordinate-wise weighted median (see coordinate-order.ts for the definition and ties). Robust to
 * any minority of outliers per coordinate, but it ignores how coordinates go together, so a
 * coordinated attack inside the honest spread (ALIE) moves it, and its noise is higher than the
 * mean's. Also the default starting point of centered clipping.
 */
import { UpdateSet } from './chunked-updates.js'
import { CoordinateOrder } from './coordinate-order.js'
import { DiagnosticsAccumulator } from './diagnostics.js'
import type { AggregateResult, ChunkOptions, WeightedUpdate } from './types.js'

export function coordinateMedian(
  updates: readonly WeightedUpdate[] | UpdateSet,
  options: ChunkOptions = {},
): AggregateResult {
  const set = updates instanceof UpdateSet ? updates : UpdateSet.from(updates, options)
  const out = new Float32Array(set.length)
  const diag = new DiagnosticsAccumulator(set.count)
  const shares = new Float64Array(set.count)
  medianPass(set, out, shares, (rows, chunk) => diag.add(rows, chunk))
  return {
    rule: 'median',
    aggregate: out,
    updates: diag.finish(
      set.weights,
      shares.map((s) => s / set.length),
    ),
    totalWeight: set.totalWeight,
    params: {},
  }
}

/** One pass writing the median into out; after each chunk, onChunk sees the rows and the result. */
export function medianPass(
  set: UpdateSet,
  out: Float32Array,
  shares: Float64Array,
  onChunk: (rows: Float32Array[], chunk: Float32Array) => void,
): void {
  const order = new CoordinateOrder(set.activeIndices(), set.weights)
  set.forEachChunk((start, rows, bits) => {
    const len = (rows[0] as Float32Array).length
    const chunk = out.subarray(start, start + len)
    for (let j = 0; j < len; j++) chunk[j] = order.median(rows, bits, j, shares)
    onChunk(rows, chunk)
  })
}
