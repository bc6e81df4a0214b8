/**
 * The verdict rules of a round, written once, in the order they apply. Four places judge offers
 * and must agree bit for bit: the host while it takes offers (offer-intake.ts, settle.ts), the
 * host when it settles verdicts at close (settle.ts), computeRound (round.ts) and `tandem verify`
 * (verify.ts), which replays a receipt with computeRound. All of them read this table, so a rule
 * changed here changes for all four. docs/host.md ("Verdict rules") explains each rule.
 *
 * A rule belongs to a stage, and stages run in table order:
 *   offer  decided from the offer alone and the ones before it (no bytes): the host records these
 *          without downloading, and verify replays them without fetching.
 *   bytes  decided from the decoded update alone.
 *   round  decided against the other updates that passed every earlier rule (the median norm) and,
 *          for near-duplicates (v3), against the earlier updates of the round still standing.
 *   score  decided by applying the update alone on the validation batch (scoring.ts).
 * An update gets the reason of the first rule that applies; none applies: accepted.
 *
 * Some rules belong to one scoring version only (manifest.aggregation.scoring, `scoring` below): a
 * round is judged by the rules of its manifest's version, so old ledgers replay as they were
 * written. rulesFor(version) is the table a round uses.
 */
import type { RejectionReason } from '../ledger/entries.js'
import type { ScoringVersion } from '../ledger/manifest.js'
import {
  cosine,
  DEFAULT_MAX_NORM_RATIO,
  isHarmful,
  l2,
  median,
  NEAR_DUPLICATE_COSINE,
  NEAR_DUPLICATE_MARGIN,
  nearDuplicate,
  type LossChange,
} from './scoring.js'

/** What the offer-stage rules look at: an offer (or a receipt's candidate) without its bytes. */
export interface OfferFacts {
  /** Absent: a contributor of its own (no earlier offer can be its second update). */
  contributor?: string
  hash: string
  receivedAt: number
  signatureValid: boolean
}

export interface RoundFacts {
  deadline: number
  /** Update hashes in earlier receipts. */
  seenBefore: ReadonlySet<string>
}

/** The offers before this one that count, as the offer stage left them (see noteOffer). */
export interface Earlier {
  /** Contributors with an earlier offer whose signature was valid (whatever its verdict). */
  readonly signedBy: Set<string>
  /** Hashes of earlier offers no offer-stage rule rejected. */
  readonly standing: Set<string>
}

interface Rule<S extends string> {
  id: string
  reason: RejectionReason
  stage: S
  /** Why the rule exists, for docs and test names. */
  why: string
  /** The scoring versions the rule belongs to; absent: every version. */
  scoring?: readonly ScoringVersion[]
}
export interface OfferRule extends Rule<'offer'> {
  applies(offer: OfferFacts, earlier: Earlier, round: RoundFacts): boolean
}
export interface BytesRule extends Rule<'bytes'> {
  /**
   * `based`: recipe.outer.overlap only, whether the update started from checkpoint r or r − 1
   * (rebase.ts); undefined without overlap.
   */
  applies(delta: Float32Array | null, expectedLength: number, based?: boolean): boolean
}
/** What a round-stage rule looks at: one decoded update among the round's. */
export interface RoundUpdateFacts {
  norm: number
  /** Median norm of the round's updates that passed the offer and bytes stages. */
  medianNorm: number
  maxNormRatio: number
  /**
   * The largest cosine between this update and an earlier update of the round that passed every
   * round-stage rule (0 when there is none). Computed on first read: only v3 reads it.
   */
  readonly copyCosine: number
  /**
   * The median cosine over all pairs of the round's updates that passed the offer and bytes
   * stages (0 with fewer than two). Computed on first read: only v3 reads it.
   */
  readonly typicalCosine: number
}
export interface RoundRule extends Rule<'round'> {
  applies(u: RoundUpdateFacts): boolean
}
export interface ScoreRule extends Rule<'score'> {
  /**
   * `change` is against the checkpoint; `peer` (v2, rounds with PEER_QUORUM scored updates or
   * more) is against the round's median update applied alone (scoring.ts, peerChange).
   */
  applies(change: LossChange, peer?: LossChange): boolean
}
export type VerdictRule = OfferRule | BytesRule | RoundRule | ScoreRule

function finite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

/** THE table. Order matters: the first rule that applies decides. */
export const VERDICT_RULES: readonly VerdictRule[] = [
  {
    id: 'second-update',
    reason: 'duplicate',
    stage: 'offer',
    why: 'one slot per contributor per round, else a contributor could double its weight and credits',
    applies: (o, earlier) =>
      o.signatureValid && o.contributor !== undefined && earlier.signedBy.has(o.contributor),
  },
  {
    id: 'bad-signature',
    reason: 'bad-signature',
    stage: 'offer',
    why: 'the offer names a core other than the one derived for the peer it came from',
    applies: (o) => !o.signatureValid,
  },
  {
    id: 'late',
    reason: 'late',
    stage: 'offer',
    why: 'arrived after the (possibly extended) deadline; stragglers are never folded into a later round',
    applies: (o, _, round) => o.receivedAt > round.deadline,
  },
  {
    id: 'replayed',
    reason: 'replayed',
    stage: 'offer',
    why: 'the same update hash is in an earlier receipt',
    applies: (o, _, round) => round.seenBefore.has(o.hash),
  },
  {
    id: 'duplicate-hash',
    reason: 'duplicate',
    stage: 'offer',
    why: 'an earlier offer still standing has the same hash (a copy of someone else’s update)',
    applies: (o, earlier) => earlier.standing.has(o.hash),
  },
  {
    id: 'wrong-shape',
    reason: 'wrong-shape',
    stage: 'bytes',
    why: 'the bytes do not decode to the model’s parameter count',
    applies: (delta, n) => !delta || delta.length !== n,
  },
  {
    id: 'non-finite',
    reason: 'non-finite',
    stage: 'bytes',
    why: 'the decoded update overflows float32 (e.g. an int8 scale × 127)',
    applies: (delta) => delta !== null && !finite(delta),
  },
  {
    id: 'stale-base',
    reason: 'stale-base',
    stage: 'bytes',
    why: 'overlap only: its header names a checkpoint other than this round’s or the one before (core/host/rebase.ts)',
    applies: (_delta, _n, based) => based === false,
  },
  {
    id: 'norm-outlier',
    reason: 'norm-outlier',
    stage: 'round',
    why: 'its norm is maxNormRatio × the median norm of the updates still standing, or more',
    applies: (u) => u.medianNorm > 0 && u.norm > u.maxNormRatio * u.medianNorm,
  },
  {
    id: 'norm-too-small',
    reason: 'norm-outlier',
    stage: 'round',
    scoring: ['v2', 'v3'],
    why: 'its norm is under 1/maxNormRatio of the median norm: zeros or a token update (a free-rider)',
    applies: (u) => u.medianNorm > 0 && u.norm < u.medianNorm / u.maxNormRatio,
  },
  {
    id: 'near-duplicate',
    reason: 'near-duplicate',
    stage: 'round',
    scoring: ['v3'],
    why: `its cosine with an update offered before it that still stands is ${NEAR_DUPLICATE_COSINE} or more, and ${NEAR_DUPLICATE_MARGIN}× closer (in 1 − cosine) than the round's median pair: a copy scaled or perturbed so its hash differs; the earlier one is kept`,
    applies: (u) =>
      u.copyCosine >= NEAR_DUPLICATE_COSINE && nearDuplicate(u.copyCosine, u.typicalCosine),
  },
  {
    id: 'harmful',
    reason: 'harmful',
    stage: 'score',
    scoring: ['v1'],
    why: 'applied alone, it makes the validation loss worse by more than 10%',
    applies: (change) => isHarmful({ lossBefore: change.lossBefore, lossAfter: change.lossAfter }),
  },
  {
    id: 'harmful-beyond-noise',
    reason: 'harmful',
    stage: 'score',
    scoring: ['v2', 'v3'],
    why: "applied alone, it makes the validation loss worse by more than 10% and by more than 3 standard errors of the per-record differences, both against the checkpoint and (with 3 or more scored updates) against the round's median update applied alone",
    applies: (change, peer) =>
      change.lossSE !== undefined && isHarmful(change) && (peer === undefined || isHarmful(peer)),
  },
]

/** The rules a round judged under scoring `version` applies, in table order. */
export function rulesFor(version: ScoringVersion): VerdictRule[] {
  return VERDICT_RULES.filter((r) => !r.scoring || r.scoring.includes(version))
}

const ofStage = <S extends VerdictRule['stage']>(stage: S, version: ScoringVersion = 'v1') =>
  rulesFor(version).filter((r): r is Extract<VerdictRule, { stage: S }> => r.stage === stage)
// Offer and bytes rules are the same in every version (the intake and verify rely on it).
const OFFER_RULES = ofStage('offer')
const BYTES_RULES = ofStage('bytes')

/** Reasons decided before an update is decoded: its bytes cannot change them (verify.ts). */
export const DECIDED_WITHOUT_BYTES: ReadonlySet<RejectionReason> = new Set(
  OFFER_RULES.map((r) => r.reason),
)

export const noEarlier = (): Earlier => ({ signedBy: new Set(), standing: new Set() })

/** Counts `offer` (with the offer-stage verdict it got) among the earlier ones of the next offer. */
export function noteOffer(earlier: Earlier, offer: OfferFacts, verdict: RejectionReason | null) {
  if (offer.signatureValid && offer.contributor !== undefined)
    earlier.signedBy.add(offer.contributor)
  if (verdict === null) earlier.standing.add(offer.hash)
}

/** The first offer-stage rule that applies, or null when only the bytes can tell. */
export function offerRule(
  offer: OfferFacts,
  earlier: Earlier,
  round: RoundFacts,
): OfferRule | null {
  return OFFER_RULES.find((r) => r.applies(offer, earlier, round)) ?? null
}

export function offerVerdict(
  offer: OfferFacts,
  earlier: Earlier,
  round: RoundFacts,
): RejectionReason | null {
  return offerRule(offer, earlier, round)?.reason ?? null
}

/** Offer-stage verdicts of offers in arrival order, each among the ones before it. */
export function offerVerdicts(
  offers: readonly OfferFacts[],
  round: RoundFacts,
): (RejectionReason | null)[] {
  const earlier = noEarlier()
  return offers.map((o) => {
    const verdict = offerVerdict(o, earlier, round)
    noteOffer(earlier, o, verdict)
    return verdict
  })
}

/** One candidate of screenVerdicts: the offer and its decoded update (null: undecodable). */
export interface Candidate extends Omit<OfferFacts, 'hash'> {
  updateHash: string
  delta: Float32Array | null
  /** recipe.outer.overlap only: started from checkpoint r or r − 1 (undefined without overlap). */
  based?: boolean
}

export interface ScreenOptions extends RoundFacts {
  expectedLength: number
  /** An update this many times the round's median norm (or more) is an outlier. */
  maxNormRatio?: number
  /** The manifest's scoring version (scoringVersion()); default v1. */
  scoring?: ScoringVersion
}

/**
 * Every verdict short of scoring, one per candidate in arrival order: the offer, bytes and round
 * stages of the table. The median norm is over updates that passed every other check, so garbage
 * cannot drag it. Round-stage rules run in arrival order, so an update's near-duplicate check
 * (v3) compares it with the earlier updates still standing after the round stage: of a copy and
 * its original, whichever was offered first stands (docs/aggregation.md, "Copies").
 */
export function screenRound(
  candidates: readonly Candidate[],
  opts: ScreenOptions,
): (RejectionReason | null)[] {
  const offered = offerVerdicts(
    candidates.map((c) => ({ ...c, hash: c.updateHash })),
    opts,
  )
  const verdicts = candidates.map((c, i): RejectionReason | null => {
    if (offered[i] !== null) return offered[i]!
    return BYTES_RULES.find((r) => r.applies(c.delta, opts.expectedLength, c.based))?.reason ?? null
  })
  const norms = candidates.map((c, i) => (verdicts[i] === null ? l2(c.delta!) : NaN))
  const med = median(norms.filter((n) => !Number.isNaN(n)))
  const ratio = opts.maxNormRatio ?? DEFAULT_MAX_NORM_RATIO
  const roundRules = ofStage('round', opts.scoring)
  // Cosines between screened updates, each pair computed once and only when a rule asks (v3).
  const screened = norms.flatMap((x, i) => (Number.isNaN(x) ? [] : [i]))
  const pairs = new Map<number, number>()
  const cos = (i: number, j: number) => {
    const key = Math.min(i, j) * candidates.length + Math.max(i, j)
    let c = pairs.get(key)
    if (c === undefined) {
      c = cosine(candidates[i]!.delta!, candidates[j]!.delta!, norms[i]!, norms[j]!)
      pairs.set(key, c)
    }
    return c
  }
  let typical: number | undefined
  const typicalCosine = () =>
    (typical ??= median(screened.flatMap((i, a) => screened.slice(a + 1).map((j) => cos(i, j)))))
  const standing: number[] = []
  return verdicts.map((v, i) => {
    if (v !== null) return v
    let copy: number | undefined
    const facts: RoundUpdateFacts = {
      norm: norms[i]!,
      medianNorm: med,
      maxNormRatio: ratio,
      get copyCosine() {
        copy ??= standing.reduce((a, j) => Math.max(a, cos(i, j)), 0)
        return copy
      },
      get typicalCosine() {
        return typicalCosine()
      },
    }
    const reason = roundRules.find((r) => r.applies(facts))?.reason ?? null
    if (reason === null) standing.push(i)
    return reason
  })
}

/** The score-stage verdict of an update that passed screenRound, under scoring `version`. */
export function scoreVerdict(
  change: LossChange,
  version: ScoringVersion = 'v1',
  peer?: LossChange,
): RejectionReason | null {
  return ofStage('score', version).find((r) => r.applies(change, peer))?.reason ?? null
}
