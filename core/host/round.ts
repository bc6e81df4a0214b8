/**
 * Closing one round, as a pure function of what the host downloaded and what the ledger already
 * says. No network and no clock: the host calls it with the updates it fetched, `tandem verify`
 * calls it with the same updates fetched again, and both must get bit-identical weights, momentum
 * and receipt. Everything here is therefore deterministic for a given TF.js backend: updates are
 * handled in arrival order, sums have a fixed order (core/aggregate), and ties break by index.
 *
 * Steps:
 *   1. decode each encoded Δ (codec bytes); a corrupt or wrongly sized one is null → 'wrong-shape'.
 *      The codec refuses non-finite floats, so 'non-finite' is what overflows when expanded (an
 *      int8 scale × 127 beyond float32).
 *   2–3. screenRound (core/host/verdicts.ts, the one table of verdict rules the host's intake,
 *      its close-time settle and verify also read): a second update from one contributor,
 *      bad-signature, late, replayed, duplicate hash, wrong-shape, non-finite, norm-outlier, and
 *      (v3) near-duplicate: the direction of an earlier standing update of the round.
 *   4. each survivor applied alone (θ − Δ_i) on the validation batch: harmful ones are rejected
 *      (the manifest's scoring version decides how: scoring.ts; v2 also compares each with the
 *      round's median update applied alone, peerChanges, so it is judged against its peers too).
 *      Harmfulness does not depend on the aggregate, so deciding it before aggregating gives the
 *      same verdicts as "aggregate, score, drop the harmful, re-aggregate" with one aggregation.
 *   5. aggregate the accepted updates with the manifest's rule, weighted contributionWeight(samples
 *      the host assigned, reputation from earlier receipts).
 *   6. score the accepted ones against that aggregate (cosine, norm ratio to their median norm;
 *      v3: spread, the distance to the others' mean against the round's median) → quality →
 *      credits (contributionCredits). Rejected updates earn 0, quality 0, and keep their
 *      reason; harmful ones keep their score, which says why.
 *   7. the outer Nesterov step with recipe.outer. Nothing accepted: weights and momentum unchanged.
 */
import { isTandemError, TandemError } from '../api/errors.js'
import { aggregate, contributionWeight, type AggregationConfig } from '../aggregate/aggregate.js'
import type { Batch } from '../engine/batch.js'
import { decode } from '../engine/compress/codec.js'
import { densify } from '../engine/compress/quantize.js'
import { paramLayout, sizeOf } from '../engine/model/layout.js'
import { nesterovOuterStep, type OuterResult } from '../engine/optim/nesterov.js'
import type { Contribution, Receipt, Score } from '../ledger/entries.js'
import { overlapMode, scoringVersion, type Manifest } from '../ledger/manifest.js'
import type { LedgerState } from '../ledger/reader.js'
import { contributionCredits } from '../ledger/receipts.js'
import { replayStanding } from '../ledger/standing.js'
import {
  baseline,
  cosine,
  l2,
  median,
  peerChanges,
  quality,
  scoredChange,
  spreads,
  type LossChange,
  type ScoredChange,
} from './scoring.js'
import { baseRound, rebaseDelta, type RoundBases } from './rebase.js'
import { scoreVerdict, screenRound } from './verdicts.js'

export interface RoundCandidate {
  /** Hex public key of the contributor. */
  contributor: string
  /** Hex key of the contributor's update core. */
  updateCore: string
  /** Start block of the update in that core. */
  updateIndex: number
  /** Hex SHA-256 of the encoded bytes. */
  updateHash: string
  /** Samples the HOST assigned (recipe.innerSteps × recipe.batchSize), never a claim. */
  samples: number
  /** Encoded Δ (core/engine/compress/codec.ts); null = could not be fetched or decoded. */
  encoded: Uint8Array | null
  receivedAt: number
  signatureValid: boolean
  /**
   * Hex checkpoint hash the update's header names (the checkpoint it was trained from); absent
   * when its bytes were not fetched. Read only with recipe.outer.overlap (rebase.ts).
   */
  startedFrom?: string
}

export interface RoundInput {
  manifest: Manifest
  round: number
  /** Checkpoint r. */
  weights: Float32Array
  /** Outer momentum entering round r; null = zeros (round 0). */
  momentum: Float32Array | null
  /** In arrival order; the receipt lists them in this order. */
  candidates: RoundCandidate[]
  /** Update hashes in earlier receipts (replays). */
  seenBefore: ReadonlySet<string>
  /** Contributor → reputation, from replayStanding over earlier receipts. */
  reputation: ReadonlyMap<string, number>
  /** Held-out batch for scoring (core/host/validation.ts). */
  validation: Batch
  deadline: number
  closedAt: number
  /**
   * recipe.outer.overlap = 'one-step-delay' only (required then): checkpoints r and r − 1, so an
   * update started from r − 1 is re-based onto r and any other is rejected 'stale-base'.
   */
  bases?: RoundBases
}

export interface RoundOutput {
  receipt: Omit<Receipt, 'v' | 'round' | 'checkpointIn' | 'checkpointOut'>
  weights: Float32Array
  momentum: Float32Array
  /** The aggregated Δ; null when nothing was accepted. */
  aggregate: Float32Array | null
  /** Validation loss of checkpoint r. */
  lossBefore: number
  /** Validation loss of the next weights. */
  lossAfter: number
}

export function parameterCount(manifest: Pick<Manifest, 'model'>): number {
  return paramLayout(manifest.model).reduce((n, p) => n + sizeOf(p.shape), 0)
}

/** Expanded Δ, or null when the bytes are not a valid encoding of `n` parameters. */
function decodeDelta(encoded: Uint8Array | null, n: number): Float32Array | null {
  if (!encoded) return null
  try {
    return densify(decode(encoded, n))
  } catch (err) {
    if (isTandemError(err) && err.code === 'COMPRESSION_CORRUPT') return null
    throw err
  }
}

/** The aggregation config the manifest names (its rule with the library's default parameters). */
export function aggregationConfig(manifest: Manifest): AggregationConfig {
  return { rule: manifest.aggregation.rule }
}

const finiteScore = (s: Score): boolean =>
  [s.lossBefore, s.lossAfter, s.cosine, s.normRatio].every(Number.isFinite)

export async function computeRound(input: RoundInput): Promise<RoundOutput> {
  const { manifest, weights, candidates, validation } = input
  const spec = manifest.model
  const n = parameterCount(manifest)
  if (weights.length !== n)
    throw new TandemError('SPEC_MISMATCH', `weights have ${weights.length} values, the model ${n}`)
  if (input.momentum && input.momentum.length !== n)
    throw new TandemError('SPEC_MISMATCH', `momentum has ${input.momentum.length} values, not ${n}`)
  const momentumIn = input.momentum ?? new Float32Array(n)
  const version = scoringVersion(manifest)

  // 1–3: decode (re-basing updates started from checkpoint r − 1 under overlap: rebase.ts) and
  // screen (the offer, bytes and round rules of verdicts.ts, in table order).
  const bases = overlapBases(manifest, input)
  const baseOf = candidates.map((c) => (bases ? baseRound(c.startedFrom, bases) : null))
  const prev = bases?.previous ?? null
  const stale = (i: number) => prev !== null && baseOf[i] === input.round - 1
  const raw = candidates.map((c) => decodeDelta(c.encoded, n))
  const deltas = raw.map((delta, i) =>
    delta && stale(i) && delta.length === n ? rebaseDelta(delta, prev!.weights, weights) : delta,
  )
  const verdicts = screenRound(
    candidates.map((c, i) => ({
      contributor: c.contributor,
      updateHash: c.updateHash,
      delta: deltas[i]!,
      receivedAt: c.receivedAt,
      signatureValid: c.signatureValid,
      ...(bases && c.startedFrom !== undefined ? { based: baseOf[i] !== null } : {}),
    })),
    {
      expectedLength: n,
      deadline: input.deadline,
      seenBefore: input.seenBefore,
      scoring: version,
    },
  )

  // 4: each survivor applied alone (the score rules of verdicts.ts for the manifest's version).
  const base = await baseline(spec, weights, validation, version)
  const { lossBefore } = base
  const scores: (Score | undefined)[] = candidates.map(() => undefined)
  const losses = new Map<number, LossChange>()
  const scored: { i: number; s: ScoredChange }[] = []
  // An update re-based from checkpoint r − 1 is judged against its own start: its end weights
  // (θ_{r−1} − Δ, the same as θ_r − Δ') against checkpoint r − 1, which it was trained to improve,
  // not against checkpoint r, whose outer step it never saw (rebase.ts).
  const prevBase =
    prev && candidates.some((_, i) => verdicts[i] === null && stale(i))
      ? await baseline(spec, prev.weights, validation, version)
      : null
  for (let i = 0; i < candidates.length; i++) {
    if (verdicts[i] !== null) continue
    const s =
      prevBase && stale(i)
        ? await scoredChange(spec, prev!.weights, raw[i]!, validation, prevBase)
        : await scoredChange(spec, weights, deltas[i]!, validation, base)
    scored.push({ i, s })
  }
  // v2: each also against the round's median update applied alone (scoring.ts, peerChanges).
  const peerOf = peerChanges(scored.map((x) => x.s))
  const peers = new Map<number, LossChange>()
  scored.forEach(({ i, s }, k) => {
    losses.set(i, s.change)
    const peer = peerOf[k]
    if (peer) peers.set(i, peer)
    verdicts[i] = scoreVerdict(s.change, version, peer)
  })

  // 5: aggregate what is left.
  const accepted = candidates.flatMap((_, i) => (verdicts[i] === null ? [i] : []))
  const reputationOf = (who: string) =>
    input.reputation.get(who) ?? manifest.credits.initialReputation
  let agg: Float32Array | null = null
  if (accepted.length > 0) {
    const result = aggregate(
      accepted.map((i) => ({
        update: deltas[i]!,
        weight: contributionWeight(
          candidates[i]!.samples,
          reputationOf(candidates[i]!.contributor),
        ),
      })),
      aggregationConfig(manifest),
      { expectedLength: n },
    )
    agg = result.aggregate
  }

  // 6: scores and quality against the final aggregate.
  const medianNorm = median(accepted.map((i) => l2(deltas[i]!)))
  const spreadOf = new Map<number, number>()
  if (version === 'v3')
    spreads(accepted.map((i) => deltas[i]!)).forEach((s, k) => {
      if (s !== undefined) spreadOf.set(accepted[k]!, s)
    })
  const qualities = candidates.map(() => 0)
  for (const [i, change] of losses) {
    const delta = deltas[i]!
    const score: Score = {
      ...change,
      cosine: agg ? cosine(delta, agg) : 0,
      normRatio: medianNorm > 0 ? l2(delta) / medianNorm : 1,
      ...(spreadOf.has(i) ? { spread: spreadOf.get(i)! } : {}),
    }
    if (finiteScore(score)) scores[i] = score
    // v2: the loss term is the better of the two comparisons, as harmful needs both to be bad.
    const peer = peers.get(i)
    if (verdicts[i] === null)
      qualities[i] = peer
        ? Math.max(quality(score), quality({ ...score, ...peer }))
        : quality(score)
  }

  const contributions: Contribution[] = candidates.map((c, i) => {
    const reason = verdicts[i]
    const base = {
      contributor: c.contributor,
      updateCore: c.updateCore,
      updateIndex: c.updateIndex,
      updateHash: c.updateHash,
      samples: c.samples,
      receivedAt: c.receivedAt,
      ...(scores[i] ? { score: scores[i] } : {}),
      ...(baseOf[i] !== null ? { baseRound: baseOf[i]! } : {}),
    }
    if (reason !== null) return { ...base, quality: 0, credits: 0, accepted: false, reason }
    const q = qualities[i]!
    return {
      ...base,
      quality: q,
      credits: contributionCredits(manifest, { ...c, quality: q, accepted: true }),
      accepted: true,
    }
  })

  // 7: the outer step.
  // Copies, so that the caller may reuse or mutate its inputs without touching the output.
  let next: OuterResult = {
    weights: Float32Array.from(weights),
    momentum: Float32Array.from(momentumIn),
  }
  if (agg) next = nesterovOuterStep(weights, agg, momentumIn, manifest.recipe.outer)
  const lossAfter = agg
    ? (await baseline(spec, next.weights, validation, version)).lossBefore
    : lossBefore

  return {
    receipt: {
      closedAt: input.closedAt,
      deadline: input.deadline,
      rule: manifest.aggregation.rule,
      contributions,
    },
    weights: next.weights,
    momentum: next.momentum,
    aggregate: agg,
    lossBefore,
    lossAfter,
  }
}

/** The round's bases under overlap (null without it); SPEC_MISMATCH when overlap lacks them. */
function overlapBases(manifest: Manifest, input: RoundInput): RoundBases | null {
  if (overlapMode(manifest) === 'none') return null
  const b = input.bases
  if (!b || b.round !== input.round || input.round > 0 !== (b.previous !== null))
    throw new TandemError(
      'SPEC_MISMATCH',
      `overlap round ${input.round}: checkpoints r, r − 1 needed`,
    )
  if (b.previous && b.previous.weights.length !== input.weights.length)
    throw new TandemError('SPEC_MISMATCH', `checkpoint ${input.round - 1} has the wrong length`)
  return b
}

/**
 * What computeRound needs from the ledger's history before round `round` (default: the round in
 * progress, i.e. every receipt so far): update hashes already offered (replays) and each
 * contributor's reputation, replayed from those receipts only.
 */
export function roundHistory(
  state: LedgerState,
  round = state.rounds.length - 1,
): { seenBefore: Set<string>; reputation: Map<string, number> } {
  const receipts = state.rounds.slice(0, round).flatMap((r) => (r.receipt ? [r.receipt] : []))
  const seenBefore = new Set(receipts.flatMap((r) => r.contributions.map((c) => c.updateHash)))
  const reputation = new Map<string, number>()
  for (const [who, s] of replayStanding(state.manifest, receipts)) reputation.set(who, s.reputation)
  return { seenBefore, reputation }
}
