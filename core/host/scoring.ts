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
 *   v3: quality = v2 quality · independence(spread)
 * so an update that makes the validation loss 10% worse earns nothing whatever else it does. v2
 * drops the floors: an update orthogonal to the aggregate (noise, zeros) or against it (a sign
 * flip) earns nothing even where the validation batch cannot tell it is harmful (a converged model),
 * and one far from the median norm earns in proportion.
 *
 * v3 (docs/aggregation.md, "Copies and consensus-followers"): `spread` = the update's distance to
 * the mean of the round's other accepted updates over the median of those distances. Independent
 * training lands about as far from the others' mean as its peers do (spread ≈ 1); an update built
 * from the others (ALIE: their mean − z·std) lands far closer, and adds nothing the others did not
 * already bring. independence ramps from 0 at SPREAD_FLOOR to 1 at SPREAD_FULL. v3 also rejects
 * near-duplicates (verdicts.ts): cosine ≥ NEAR_DUPLICATE_COSINE with an earlier standing update.
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

/**
 * v3: an update whose cosine with an earlier standing update of the round is this or more is a
 * near-duplicate, when the pair is also NEAR_DUPLICATE_MARGIN times closer (in 1 − cosine) than
 * the round's median pair. Honest pairs measured (robustness experiment): cosine ≤ 0.65 on MNIST,
 * up to 0.97 in the first rounds of an easy task; docs/aggregation.md, "Copies".
 */
export const NEAR_DUPLICATE_COSINE = 0.99
/**
 * v3: how many times closer than the round's median pair (in 1 − cosine) a near-duplicate must
 * be. Where every honest pair is close (an easy task's first rounds), honest pairs are ordinary
 * among themselves and stand; a copy is far closer to its original than that.
 */
export const NEAR_DUPLICATE_MARGIN = 4
/** v3: spread at or under which an update earns nothing (independence 0). */
export const SPREAD_FLOOR = 0.3
/** v3: spread from which an update earns in full (independence 1). */
export const SPREAD_FULL = 0.45

/** v3: whether cosine `c` between two updates makes them near-duplicates in a round whose median pair has cosine `typical`. */
export function nearDuplicate(c: number, typical: number): boolean {
  return c >= NEAR_DUPLICATE_COSINE && 1 - c < (1 - typical) / NEAR_DUPLICATE_MARGIN
}

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

/** Cosine of two vectors (0 if either is zero); pass their norms when already known. */
export function cosine(a: Float32Array, b: Float32Array, normA = l2(a), normB = l2(b)): number {
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!
  const n = normA * normB
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

/** A loss change with, in v2, the per-record losses after applying Δ alone (for peerChange). */
export interface ScoredChange {
  change: LossChange
  records?: Float32Array
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
  return (await scoredChange(spec, weights, delta, batch, before)).change
}

/** lossChange, keeping v2's per-record losses after applying Δ alone. */
export async function scoredChange(
  spec: ModelSpec,
  weights: Float32Array,
  delta: Float32Array,
  batch: Batch,
  before?: number | Baseline,
): Promise<ScoredChange> {
  const base: Baseline =
    typeof before === 'number'
      ? { lossBefore: before }
      : (before ?? { lossBefore: await evaluateLoss(spec, weights, batch) })
  if (!base.records)
    return {
      change: {
        lossBefore: base.lossBefore,
        lossAfter: await evaluateLoss(spec, applied(weights, delta), batch),
      },
    }
  const after = await evaluateRecordLosses(spec, applied(weights, delta), batch)
  return {
    change: {
      lossBefore: base.lossBefore,
      lossAfter: mean(after),
      lossSE: pairedDifference(base.records, after).se,
    },
    records: after,
  }
}

/**
 * v2: fewest scored updates in a round for the peer comparison. Below it a round has no median
 * that a single attacker cannot set, so only the checkpoint comparison counts.
 */
export const PEER_QUORUM = 3

/**
 * v2, the peer comparison: each scored update against the round's median update applied alone.
 *
 * Why: a DiLoCo worker's own end-of-round weights are often worse on held-out data than the
 * checkpoint it started from (the checkpoint is an average of many workers plus outer momentum;
 * one worker's weights carry its own shard's noise), while the average of the same updates is
 * better. Judged against the checkpoint alone, every honest update of such a round is "harmful"
 * (measured: the traffic experiment, all 4 honest updates of round 1). Against the median peer,
 * an honest update is ordinary and an attacker's (sign flip, noise) is still far worse.
 *
 * The reference is the update whose lossAfter is the lower median (ties by position, so host and
 * verifier agree); the change is paired per record like the checkpoint comparison, with the
 * reference's lossAfter in the `lossBefore` place. Returns one entry per scored input (undefined
 * below PEER_QUORUM or without per-record losses).
 */
export function peerChanges(scored: readonly ScoredChange[]): (LossChange | undefined)[] {
  if (scored.length < PEER_QUORUM || scored.some((s) => !s.records))
    return scored.map(() => undefined)
  const order = scored
    .map((s, i) => ({ loss: s.change.lossAfter, i }))
    .sort((a, b) => (a.loss === b.loss ? a.i - b.i : a.loss < b.loss ? -1 : 1))
  // NaN losses sort unpredictably with `<`; they are harmful anyway (isHarmful), so any order is fine
  // for them, but the reference must be finite.
  const finiteOrder = order.filter((o) => Number.isFinite(o.loss))
  if (finiteOrder.length < PEER_QUORUM) return scored.map(() => undefined)
  const ref = scored[finiteOrder[(finiteOrder.length - 1) >> 1]!.i]!
  return scored.map((s) => ({
    lossBefore: ref.change.lossAfter,
    lossAfter: s.change.lossAfter,
    lossSE: pairedDifference(ref.records!, s.records!).se,
  }))
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

/**
 * v3: per update, its distance to the unweighted mean of the others over the median of those
 * distances. Sums in float64 in input order (host and verifier get the same bits). Undefined
 * entries below PEER_QUORUM updates (no median a single update cannot set) or when every distance
 * is 0.
 */
export function spreads(deltas: readonly Float32Array[]): (number | undefined)[] {
  const m = deltas.length
  if (m < PEER_QUORUM) return deltas.map(() => undefined)
  const n = deltas[0]!.length
  const sum = new Float64Array(n)
  for (const d of deltas) for (let i = 0; i < n; i++) sum[i]! += d[i]!
  const distances = deltas.map((d) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const diff = d[i]! - (sum[i]! - d[i]!) / (m - 1)
      s += diff * diff
    }
    return Math.sqrt(s)
  })
  const med = median(distances)
  if (!(med > 0)) return deltas.map(() => undefined)
  return distances.map((d) => d / med)
}

/** v3: the factor quality takes from spread: 0 at SPREAD_FLOOR or under, 1 from SPREAD_FULL. */
export function independence(spread: number | undefined): number {
  if (spread === undefined) return 1
  if (!Number.isFinite(spread)) return 0
  return Math.min(1, Math.max(0, (spread - SPREAD_FLOOR) / (SPREAD_FULL - SPREAD_FLOOR)))
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
      : lossQ * clamp(s.cosine) * normQ * independence(s.spread)
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
