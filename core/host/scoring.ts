/**
 * Scoring of one round's updates: pure functions of what the host downloaded and knows, so a
 * verifier given the same inputs reaches the same scores. Which verdict applies when is the table
 * in verdicts.ts; the measures it uses (norms, harmfulness) are here.
 *
 * "Applied alone" means θ − Δ_i: the contributor's own end-of-round weights (Δ = θ − θ_local). Not
 * scaled by the outer lr, because the outer step mixes momentum and other updates in, and what we
 * want to know is whether this update on its own moves the model the right way.
 *
 * Quality, in [0, 1], rounded to 1e-6:
 *   rel   = (lossBefore − lossAfter) / lossBefore          relative loss change
 *   lossQ = clamp(0.5 + 5·rel, 0, 1)                        10% better → 1, no change → 0.5
 *   agree = (1 + cosine) / 2                                agreement with the aggregate
 *   normQ = min(normRatio, 1 / normRatio)                   far from the median norm either way
 *   quality = lossQ · (0.5 + 0.5·agree) · (0.5 + 0.5·normQ)
 * so an update that makes the validation loss 10% worse earns nothing whatever else it does.
 */
import type { Batch } from '../engine/batch.js'
import { evaluateLoss } from '../engine/inner-loop.js'
import type { ModelSpec } from '../engine/spec/schema.js'
import type { Score } from '../ledger/entries.js'

/** An update this many times the round's median norm (or more) is an outlier (verdicts.ts). */
export const DEFAULT_MAX_NORM_RATIO = 10

export function l2(x: Float32Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return Math.sqrt(s)
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const v = [...values].sort((a, b) => a - b)
  const m = v.length >> 1
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!
  const n = l2(a) * l2(b)
  return n > 0 ? dot / n : 0
}

/** Validation loss before and after applying Δ alone (θ − Δ). */
export async function lossChange(
  spec: ModelSpec,
  weights: Float32Array,
  delta: Float32Array,
  batch: Batch,
  lossBefore?: number,
): Promise<{ lossBefore: number; lossAfter: number }> {
  const before = lossBefore ?? (await evaluateLoss(spec, weights, batch))
  const applied = new Float32Array(weights.length)
  for (let i = 0; i < weights.length; i++) applied[i] = weights[i]! - delta[i]!
  return { lossBefore: before, lossAfter: await evaluateLoss(spec, applied, batch) }
}

/** Whether the update made the validation loss worse by more than `tolerance` (relative). */
export function isHarmful(s: Pick<Score, 'lossBefore' | 'lossAfter'>, tolerance = 0.1): boolean {
  return !(s.lossAfter <= s.lossBefore * (1 + tolerance))
}

export function quality(s: Score): number {
  const clamp = (x: number) => Math.min(1, Math.max(0, x))
  if (![s.lossBefore, s.lossAfter, s.cosine, s.normRatio].every(Number.isFinite)) return 0
  const rel = s.lossBefore > 0 ? (s.lossBefore - s.lossAfter) / s.lossBefore : 0
  const lossQ = clamp(0.5 + 5 * rel)
  const agree = clamp((1 + s.cosine) / 2)
  const normQ = s.normRatio > 0 ? Math.min(s.normRatio, 1 / s.normRatio) : 0
  const q = lossQ * (0.5 + 0.5 * agree) * (0.5 + 0.5 * normQ)
  return Math.round(q * 1e6) / 1e6
}

/** Full score of one update against the round's aggregate; medianNorm over accepted updates. */
export async function scoreUpdate(
  spec: ModelSpec,
  weights: Float32Array,
  delta: Float32Array,
  aggregate: Float32Array,
  medianNorm: number,
  batch: Batch,
  lossBefore?: number,
): Promise<{ score: Score; quality: number }> {
  const losses = await lossChange(spec, weights, delta, batch, lossBefore)
  const score: Score = {
    ...losses,
    cosine: cosine(delta, aggregate),
    normRatio: medianNorm > 0 ? l2(delta) / medianNorm : 1,
  }
  return { score, quality: quality(score) }
}
