/**
 * Weighted mean Σ w_i Δ_i / Σ w_i: the baseline, optimal without attackers and broken by one.
 * One pass; sums run in update order in float64, so the result is deterministic.
 */
import { UpdateSet } from './chunked-updates.js'
import { DiagnosticsAccumulator } from './diagnostics.js'
import { addScaled, writeStep } from './kernels.js'
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
  meanPass(set, active, W, out, (rows, chunk) => diag.add(rows, chunk))
  const effective = Array.from(set.weights, (w) => w / W)
  return {
    rule: 'mean',
    aggregate: out,
    updates: diag.finish(set.weights, effective),
    totalWeight: W,
    params: {},
  }
}

/**
 * One pass writing Σ_{i ∈ members} w_i Δ_i / W into out (members in update order); onChunk sees
 * each chunk's rows and result.
 */
export function meanPass(
  set: UpdateSet,
  members: readonly number[],
  W: number,
  out: Float32Array,
  onChunk: (rows: Float32Array[], chunk: Float32Array) => void,
): void {
  const acc = new Float64Array(Math.min(set.chunkSize, set.length))
  set.forEachChunk((start, rows) => {
    const len = (rows[0] as Float32Array).length
    acc.fill(0)
    for (const i of members) addScaled(acc, rows[i] as Float32Array, set.weights[i] as number, len)
    const chunk = out.subarray(start, start + len)
    writeStep(chunk, null, acc, W, len)
    onChunk(rows, chunk)
  })
}
