/**
 * Coordinate-wise weighted trimmed mean: at each coordinate drop a fraction β of the total weight
 * from each end and average the rest by weight. Between the mean (β = 0) and the median (β → ½);
 * it withstands up to a fraction β of attackers per coordinate and is less noisy than the median.
 */
import { UpdateSet } from './chunked-updates.js'
import { CoordinateOrder } from './coordinate-order.js'
import { DiagnosticsAccumulator } from './diagnostics.js'
import { badConfig, type AggregateResult, type ChunkOptions, type WeightedUpdate } from './types.js'

export interface TrimmedMeanOptions extends ChunkOptions {
  /** β, the fraction of weight trimmed at each end, in [0, 0.5). Default 0.2. */
  trim?: number
}

export const DEFAULT_TRIM = 0.2

export function trimmedMean(
  updates: readonly WeightedUpdate[] | UpdateSet,
  options: TrimmedMeanOptions = {},
): AggregateResult {
  const trim = options.trim ?? DEFAULT_TRIM
  if (typeof trim !== 'number' || !(trim >= 0 && trim < 0.5))
    badConfig(`trim ${trim} must be in [0, 0.5)`)
  const set = updates instanceof UpdateSet ? updates : UpdateSet.from(updates, options)
  const out = new Float32Array(set.length)
  const diag = new DiagnosticsAccumulator(set.count)
  const shares = new Float64Array(set.count)
  const order = new CoordinateOrder(set.activeIndices(), set.weights)
  const trimMass = trim * order.total
  set.forEachChunk((start, rows, bits) => {
    const len = (rows[0] as Float32Array).length
    const chunk = out.subarray(start, start + len)
    for (let j = 0; j < len; j++) chunk[j] = order.trimmedMean(rows, bits, j, trimMass, shares)
    diag.add(rows, chunk)
  })
  return {
    rule: 'trimmed-mean',
    aggregate: out,
    updates: diag.finish(
      set.weights,
      shares.map((s) => s / set.length),
    ),
    totalWeight: set.totalWeight,
    params: { trim },
  }
}
