/**
 * Centered clipping (Karimireddy, He & Jaggi 2021), the default rule. From a robust start v:
 *   v ← v + Σ_i w_i · clip(Δ_i − v, τ) / Σ_i w_i,   clip(x, τ) = x · min(1, τ / ‖x‖)
 * repeated a fixed number of times. An update can move the aggregate by at most w_i·τ/W, however
 * large it is, while updates within τ of v count fully, so with few attackers it stays near the
 * honest mean instead of the noisier median.
 *
 * Choices (docs/aggregation.md says why):
 * - start: the previous round's aggregate when the caller passes it, else the coordinate-wise
 *   weighted median of this round.
 * - τ, per iteration: tauScale × the (unweighted) median of ‖Δ_i − v‖ over updates with positive
 *   weight, so it adapts to the honest spread and needs no tuning per model.
 * - a fixed iteration count (default 3), so a verifier replays exactly the same arithmetic.
 *
 * Streaming: each iteration is one pass over the chunks; the distances to the new iterate are
 * accumulated in that same pass, because a chunk of v is final once every update's chunk was added.
 */
import { AggregationError, badConfig } from './types.js'
import type { AggregateResult, ChunkOptions, WeightedUpdate } from './types.js'
import { UpdateSet } from './chunked-updates.js'
import { DiagnosticsAccumulator } from './diagnostics.js'
import { addScaledDiff, writeStep } from './kernels.js'
import { medianPass } from './median.js'

export interface CenteredClipOptions extends ChunkOptions {
  /** Default 3. */
  iterations?: number
  /** τ = tauScale × median distance. Default 1. */
  tauScale?: number
  /** Starting point, e.g. the previous round's aggregate. Default: the coordinate-wise median. */
  start?: Float32Array
}

export const DEFAULT_CLIP_ITERATIONS = 3
export const DEFAULT_TAU_SCALE = 1

export function centeredClip(
  updates: readonly WeightedUpdate[] | UpdateSet,
  options: CenteredClipOptions = {},
): AggregateResult {
  const iterations = options.iterations ?? DEFAULT_CLIP_ITERATIONS
  const tauScale = options.tauScale ?? DEFAULT_TAU_SCALE
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 100)
    badConfig(`iterations ${iterations} must be an integer in [1, 100]`)
  if (typeof tauScale !== 'number' || !(tauScale > 0) || !Number.isFinite(tauScale))
    badConfig(`tauScale ${tauScale} must be positive`)
  const set = updates instanceof UpdateSet ? updates : UpdateSet.from(updates, options)
  const W = set.totalWeight
  const active = set.activeIndices()
  const diag = new DiagnosticsAccumulator(set.count)

  let v: Float32Array
  if (options.start !== undefined) {
    v = checkedStart(options.start, set.length)
    set.forEachChunk((start, rows) => diag.add(rows, v.subarray(start, start + rows[0]!.length)))
  } else {
    v = new Float32Array(set.length)
    medianPass(set, v, new Float64Array(set.count), (rows, chunk) => diag.add(rows, chunk))
  }

  const taus: number[] = []
  const coeff = new Float64Array(set.count)
  const clipped = new Uint8Array(set.count)
  const acc = new Float64Array(Math.min(set.chunkSize, set.length))
  for (let t = 0; t < iterations; t++) {
    const dist = Array.from(diag.distSq, Math.sqrt)
    const tau = tauScale * plainMedian(active.map((i) => dist[i] as number))
    taus.push(tau)
    for (const i of active) {
      const d = dist[i] as number
      const w = set.weights[i] as number
      clipped[i] = d > tau ? 1 : 0
      coeff[i] = d > tau ? (w * tau) / d : w
    }
    const movers = active.filter((i) => (coeff[i] as number) > 0)
    diag.resetAggregate()
    set.forEachChunk((start, rows) => {
      const len = rows[0]!.length
      acc.fill(0)
      const vc = v.subarray(start, start + len)
      for (const i of movers)
        addScaledDiff(acc, rows[i] as Float32Array, vc, coeff[i] as number, len)
      // In place: this chunk of the previous iterate is not needed again.
      writeStep(vc, vc, acc, W, len)
      diag.add(rows, vc, false)
    })
  }
  return {
    rule: 'centered-clip',
    aggregate: v,
    updates: diag.finish(
      set.weights,
      Array.from(coeff, (c) => c / W),
      (i) => ({ clipped: clipped[i] === 1 }),
    ),
    totalWeight: W,
    params: { iterations, tauScale, tau: taus, start: options.start === undefined ? 0 : 1 },
  }
}

function checkedStart(start: Float32Array, n: number): Float32Array {
  if (!(start instanceof Float32Array)) badConfig('start must be a Float32Array')
  if (start.length !== n)
    throw new AggregationError(
      'AGGREGATE_LENGTH_MISMATCH',
      `start has ${start.length} parameters, expected ${n}`,
    )
  for (let j = 0; j < n; j++)
    if (!Number.isFinite(start[j])) badConfig(`start is not finite at ${j}`)
  return Float32Array.from(start)
}

/** Median of a few numbers (middle two averaged); sorts a copy. */
function plainMedian(xs: number[]): number {
  const s = Float64Array.from(xs).sort()
  const h = s.length >> 1
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2
}
