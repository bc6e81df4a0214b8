/**
 * Scoring of one round's updates: pure functions of what the host downloaded and knows, so a
 * verifier given the same inputs reaches the same scores. Which verdict applies when is the table
 * in verdicts.ts; the measures it uses (norms, harmfulness) are here.
 *
 * "Applied alone" means θ − Δ_i: the contributor's own end-of-round weights (Δ = θ − θ_local). Not
 * scaled by the outer lr, because the outer step mixes momentum and other updates in, and what we
 * want to know is whether this update on its own moves the model the right way.
 *
 * Two versions of the rule (manifest.aggregation.scoring; ledgers without it are v1):
 *   v1  losses are the batch means from evaluateLoss; harmful ⇔ lossAfter > 1.1 × lossBefore.
 *   v2  losses are per record (evaluateRecordLosses), means summed in float64 in record order, and
 *       lossSE is the standard error of the mean per-record difference (after − before).
 *       harmful ⇔ after − before > 0.1·before AND after − before > NOISE_Z·lossSE: worse by more
 *       than 10 %, and significantly so (a one-sided paired test at 3 standard errors). Quality's
 *       loss term counts only the change beyond the noise band:
 *         beyond  = sign(before − after) · max(0, |before − after| − NOISE_Z·lossSE)
 *       docs/aggregation.md ("Harmful updates") gives the reasoning.
 *
 * Quality, in [0, 1], rounded to 1e-6:
 *   rel   = (lossBefore − lossAfter) / lossBefore          relative loss change (v2: beyond / before)
 *   lossQ = clamp(0.5 + 5·rel, 0, 1)                        10% better → 1, no change → 0.5
 *   agree = (1 + cosine) / 2                                agreement with the aggregate
 *   normQ = min(normRatio, 1 / normRatio)                   far from the median norm either way
 *   v1: quality = lossQ · (0.5 + 0.5·agree) · (0.5 + 0.5·normQ)
 *   v2: quality = lossQ · max(0, cosine) · normQ
 * so an update that makes the validation loss 10% worse earns nothing whatever else it does. v2
 * drops the floors: an update orthogonal to the aggregate (noise, zeros) or against it (a sign
 * flip) earns nothing even where the validation batch cannot tell it is harmful (a converged model),
 * and one far from the median norm earns in proportion.
 */
import type { Batch } from '../engine/batch.js'
import { evaluateLoss, evaluateRecordLosses } from '../engine/inner-loop.js'
import type { ModelSpec } from '../engine/spec/schema.js'
import type { Score } from '../ledger/entries.js'
import type { ScoringVersion } from '../ledger/manifest.js'

/** An update this many times the round's median norm (or more) is an outlier (verdicts.ts). */
export const DEFAULT_MAX_NORM_RATIO = 10
/** Harmful: the loss worse by more than this fraction of lossBefore (v2: and significantly). */
export const HARMFUL_TOLERANCE = 0.1
/** v2: standard errors of the paired loss difference that count as noise (one-sided). */
export const NOISE_Z = 3

/** What the harmful check and quality's loss term read; lossSE only in v2. */
export type LossChange = Pick<Score, 'lossBefore' | 'lossAfter' | 'lossSE'>

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

function applied(weights: Float32Array, delta: Float32Array): Float32Array {
  const out = new Float32Array(weights.length)
  for (let i = 0; i < weights.length; i++) out[i] = weights[i]! - delta[i]!
  return out
}

/** Mean in float64, summed in record order (so host and verifier get the same bits). */
function mean(values: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < values.length; i++) s += values[i]!
  return values.length > 0 ? s / values.length : NaN
}

/** What v2 scores every candidate of a round against: the records' losses at θ (computed once). */
export interface Baseline {
  /** v1: the batch mean from evaluateLoss. v2: the mean of `records`. */
  lossBefore: number
  /** v2 only. */
  records?: Float32Array
}

export async function baseline(
  spec: ModelSpec,
  weights: Float32Array,
  batch: Batch,
  version: ScoringVersion = 'v1',
): Promise<Baseline> {
  if (version === 'v1') return { lossBefore: await evaluateLoss(spec, weights, batch) }
  const records = await evaluateRecordLosses(spec, weights, batch)
  return { lossBefore: mean(records), records }
}

/**
 * Paired difference of two per-record loss vectors: the mean of (after − before) and its standard
 * error (sample standard deviation / √n; 0 for fewer than two records).
 */
export function pairedDifference(
  before: ArrayLike<number>,
  after: ArrayLike<number>,
): { mean: number; se: number } {
  const n = before.length
  const d = new Float64Array(n)
  for (let i = 0; i < n; i++) d[i] = after[i]! - before[i]!
  const m = mean(d)
  if (n < 2) return { mean: m, se: 0 }
  let ss = 0
  for (let i = 0; i < n; i++) ss += (d[i]! - m) * (d[i]! - m)
  return { mean: m, se: Math.sqrt(ss / (n - 1) / n) }
}

/**
 * Validation loss before and after applying Δ alone (θ − Δ). v1 (no baseline records): batch means.
 * v2 (a baseline with records): per-record means and the paired standard error.
 */
export async function lossChange(
  spec: ModelSpec,
  weights: Float32Array,
  delta: Float32Array,
  batch: Batch,
  before?: number | Baseline,
): Promise<LossChange> {
  const base: Baseline =
    typeof before === 'number'
      ? { lossBefore: before }
      : (before ?? { lossBefore: await evaluateLoss(spec, weights, batch) })
  if (!base.records)
    return {
      lossBefore: base.lossBefore,
      lossAfter: await evaluateLoss(spec, applied(weights, delta), batch),
    }
  const after = await evaluateRecordLosses(spec, applied(weights, delta), batch)
  return {
    lossBefore: base.lossBefore,
    lossAfter: mean(after),
    lossSE: pairedDifference(base.records, after).se,
  }
}

/**
 * The loss change that counts (positive = better): v1 the raw change, v2 the change beyond
 * NOISE_Z standard errors (0 inside the noise band). NaN when a loss is not finite.
 */
export function changeBeyondNoise(s: LossChange): number {
  const raw = s.lossBefore - s.lossAfter
  if (s.lossSE === undefined) return raw
  const beyond = Math.abs(raw) - NOISE_Z * s.lossSE
  if (Number.isNaN(beyond)) return NaN
  return beyond > 0 ? Math.sign(raw) * beyond : 0
}

/**
 * Whether the update made the validation loss worse by more than `tolerance` of it: v1 relative
 * only (lossAfter > 1.1 × lossBefore); v2 (lossSE present) also by more than NOISE_Z standard
 * errors of the paired difference. Anything not finite is harmful.
 */
export function isHarmful(s: LossChange, tolerance = HARMFUL_TOLERANCE): boolean {
  if (s.lossSE === undefined) return !(s.lossAfter <= s.lossBefore * (1 + tolerance))
  const worse = s.lossAfter - s.lossBefore
  return !(worse <= tolerance * s.lossBefore || worse <= NOISE_Z * s.lossSE)
}

export function quality(s: Score): number {
  const clamp = (x: number) => Math.min(1, Math.max(0, x))
  if (![s.lossBefore, s.lossAfter, s.cosine, s.normRatio].every(Number.isFinite)) return 0
  if (s.lossSE !== undefined && !Number.isFinite(s.lossSE)) return 0
  const rel = s.lossBefore > 0 ? changeBeyondNoise(s) / s.lossBefore : 0
  const lossQ = clamp(0.5 + 5 * rel)
  const normQ = s.normRatio > 0 ? Math.min(s.normRatio, 1 / s.normRatio) : 0
  const q =
    s.lossSE === undefined
      ? lossQ * (0.5 + 0.5 * clamp((1 + s.cosine) / 2)) * (0.5 + 0.5 * normQ)
      : lossQ * clamp(s.cosine) * normQ
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
  before?: number | Baseline,
): Promise<{ score: Score; quality: number }> {
  const losses = await lossChange(spec, weights, delta, batch, before)
  const score: Score = {
    ...losses,
    cosine: cosine(delta, aggregate),
    normRatio: medianNorm > 0 ? l2(delta) / medianNorm : 1,
  }
  return { score, quality: quality(score) }
}
