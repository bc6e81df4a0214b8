/**
 * Weighted mean Σ w_i Δ_i / Σ w_i: the baseline, optimal without attackers and broken by one.
 * One pass; sums run in update order in float64, so the result is deterministic.
 */
import { UpdateSet } from './chunked-updates.js'
import { DiagnosticsAccumulator } from './diagnostics.js'
import type { AggregateResult, ChunkOptions, WeightedUpdate } from './types.js'

export function weightedMean(
  updates: readonly WeightedUpdate[] | UpdateSet,
  options: ChunkOptions = {},
): AggregateResult {
  const set = updates instanceof UpdateSet ? updates : UpdateSet.from(updates, options)
  const out = new Float32Array(set.length)
  const diag = new DiagnosticsAccumulator(set.count)
  const active = set.activeIndices()
  const W = set.totalWeight
  let acc = new Float64Array(0)
  set.forEachChunk((start, rows) => {
    const len = (rows[0] as Float32Array).length
    if (acc.length < len) acc = new Float64Array(len)
    acc.fill(0)
    for (const i of active) {
      const r = rows[i] as Float32Array
      const w = set.weights[i] as number
      for (let j = 0; j < len; j++) acc[j] = (acc[j] as number) + w * (r[j] as number)
    }
    const chunk = out.subarray(start, start + len)
    for (let j = 0; j < len; j++) chunk[j] = (acc[j] as number) / W
    diag.add(rows, chunk)
  })
  const effective = Array.from(set.weights, (w) => w / W)
  return {
    rule: 'mean',
    aggregate: out,
    updates: diag.finish(set.weights, effective),
    totalWeight: W,
    params: {},
  }
}
