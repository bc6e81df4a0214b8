/**
 * Amendments by consent, as pure functions of a ledger state (docs/governance.md): which manifest is
 * in effect in a round, who may vote on a proposal and with what weight, which recorded votes count,
 * and whether a proposal is open, passed or failed. The host (when it enacts and records), every
 * node (what it shows, whether it must pause) and `tandem verify` all use these, so they agree.
 *
 * Timeline of a proposal made while round p is the ledger's current round, under the policy in
 * effect in round p:
 *
 *   voting    from the proposal until the receipt of round c (the closing round): c = p + n − 1 for
 *             a period of n rounds; for a period of s seconds, the first round ≥ p whose receipt
 *             closed at or after proposedAt + s. A vote counts only if recorded before that receipt.
 *   decided   when receipt c is in the ledger: passed or failed, once and for all.
 *   in effect from round c + 1 on, if passed: the host writes an enact entry in front of round-open
 *             c + 1. A failed proposal never takes effect.
 */
import { createHash } from 'node:crypto'
import { DEFAULT_POLICY, termsHash, type Charter, type GovernancePolicy } from './charter.js'
import {
  changesTerms,
  voteSignatureValid,
  type Change,
  type Proposal,
  type Vote,
  type VoteChoice,
} from './amendments.js'
import type { Manifest } from './manifest.js'
import { sameSpec } from './swap-changes.js'
import type { LedgerState, ProposalRecord } from './reader.js'
import { replayStanding } from './standing.js'

export type VoteRejection = 'bad-signature' | 'wrong-proposal' | 'ineligible' | 'duplicate' | 'late'

export interface CountedVote {
  index: number
  voter: string
  choice: VoteChoice
  /** Weight under the policy (0 when not counted). */
  weight: number
  counted: boolean
  reason?: VoteRejection
}

export type ProposalStatus = 'open' | 'passed' | 'failed'

export interface Tally {
  proposal: ProposalRecord
  policy: GovernancePolicy
  status: ProposalStatus
  /** The round whose receipt ends the vote (null: a period in seconds not yet reached). */
  closesAfterRound: number | null
  /** The round a passed proposal takes effect in (closesAfterRound + 1). */
  effectiveRound: number | null
  /** Eligible voters and their weights. */
  eligible: Array<{ voter: string; weight: number }>
  eligibleWeight: number
  yes: number
  no: number
  quorumMet: boolean
  votes: CountedVote[]
  /** Round it was enacted in, if the host enacted it. */
  enactedAt: number | null
  /** It changes purpose, licence or data: contributors who did not vote yes pause. */
  changesTerms: boolean
}

function proposalsOf(state: LedgerState): ProposalRecord[] {
  return state.governance?.proposals ?? []
}

function charterWith(
  m: Manifest,
  edit: (c: Charter) => Partial<Charter>,
): Pick<Manifest, 'charter'> {
  return m.charter ? { charter: { ...m.charter, ...edit(m.charter) } } : {}
}

/** The manifest with one change applied (a change that needs a charter does nothing without one). */
export function applyChange(m: Manifest, change: Change): Manifest {
  switch (change.kind) {
    case 'charter':
      return { ...m, charter: change.charter }
    case 'licence':
      return {
        ...m,
        ...charterWith(m, () => ({
          weights: { licence: change.licence, download: change.download },
        })),
      }
    case 'host':
      return { ...m, ...charterWith(m, () => ({ host: change.host })) }
    case 'aggregation':
      return { ...m, aggregation: { ...m.aggregation, rule: change.rule } }
    case 'recipe': {
      const { kind: _kind, outer, ...rest } = change
      const recipe = { ...m.recipe, ...rest, ...(outer ? { outer } : {}) }
      return { ...m, recipe }
    }
    case 'dataset':
      return { ...m, dataset: { key: change.dataset.key } }
    case 'model':
      return { ...m, model: change.model }
  }
}

/** Why a change cannot apply to the manifest in effect (null: it can). */
export function changeProblem(m: Manifest, change: Change): string | null {
  if ((change.kind === 'licence' || change.kind === 'host') && !m.charter)
    return 'the project has no charter: propose a whole charter first'
  if (change.kind === 'recipe') {
    const r = applyChange(m, change).recipe
    if (r.minUpdates > r.maxUpdates) return 'minUpdates would exceed maxUpdates'
    if (Object.keys(change).length === 1) return 'the recipe change changes nothing'
  }
  if (change.kind === 'aggregation' && change.rule === m.aggregation.rule)
    return `the rule is ${m.aggregation.rule} already`
  if (change.kind === 'dataset' && change.dataset.key === m.dataset.key)
    return 'the project trains on this dataset already'
  if (change.kind === 'model' && m.recipe.outerUpdates !== undefined)
    return 'a project that publishes outer updates (recipe.outerUpdates) cannot change its model: its checkpoints are derived from the previous ones'
  if (change.kind === 'model' && sameSpec(change.model, m.model))
    return 'the project trains this model already'
  return null
}

/** The manifest in effect in `round`: the ledger's, plus every change enacted up to that round. */
export function effectiveManifest(state: LedgerState, round: number): Manifest {
  const byIndex = new Map(proposalsOf(state).map((p) => [p.index, p]))
  let m = state.manifest
  for (const rec of state.rounds) {
    if (rec.round > round) break
    for (const index of rec.enacted ?? []) {
      const p = byIndex.get(index)
      if (p) m = applyChange(m, p.value.change)
    }
  }
  return m
}

export function policyAt(state: LedgerState, round: number): GovernancePolicy {
  return effectiveManifest(state, round).charter?.governance ?? DEFAULT_POLICY
}

/** Eligible voters of a proposal made in round p, with their weights (policyAt p). */
export function eligibleVoters(
  state: LedgerState,
  p: number,
  policy: GovernancePolicy,
): Map<string, number> {
  const from = policy.recentRounds === undefined ? 0 : Math.max(0, p - policy.recentRounds)
  const voters = new Set<string>()
  const before = state.rounds.filter((r) => r.round < p && r.receipt).map((r) => r.receipt!)
  for (const receipt of before) {
    if (receipt.round < from) continue
    for (const c of receipt.contributions) if (c.accepted) voters.add(c.contributor)
  }
  const standing =
    policy.weighting === 'reputation'
      ? replayStanding(effectiveManifest(state, p), before)
      : undefined
  const out = new Map<string, number>()
  for (const v of [...voters].sort()) out.set(v, standing ? standing.get(v)!.reputation : 1)
  return out
}

/** The round whose receipt ends the vote on a proposal; null while not yet known (seconds). */
export function closingRound(
  state: LedgerState,
  proposal: Pick<ProposalRecord, 'round'> & { value: Pick<Proposal, 'proposedAt'> },
  policy: GovernancePolicy,
): number | null {
  const period = policy.votingPeriod
  if ('rounds' in period) return proposal.round + period.rounds - 1
  const end = proposal.value.proposedAt + period.seconds * 1000
  for (const r of state.rounds) {
    if (r.round < proposal.round || !r.receipt) continue
    if (r.receipt.closedAt >= end) return r.round
  }
  return null
}

function enactedRound(state: LedgerState, index: number): number | null {
  return state.rounds.find((r) => r.enacted?.includes(index))?.round ?? null
}

/** Counts the recorded votes on one proposal under the policy in force when it was made. */
export function tally(state: LedgerState, proposal: ProposalRecord): Tally {
  const project = state.key
  const policy = policyAt(state, proposal.round)
  const eligible = eligibleVoters(state, proposal.round, policy)
  const closes = closingRound(state, proposal, policy)
  const decided = closes !== null && Boolean(state.rounds[closes]?.receipt)
  const seen = new Set<string>()
  const votes: CountedVote[] = []
  let yes = 0
  let no = 0
  for (const rec of state.governance?.votes ?? []) {
    const v = rec.value
    if (v.proposal !== proposal.index) continue
    const reject = (reason: VoteRejection) =>
      votes.push({
        index: rec.index,
        voter: v.voter,
        choice: v.choice,
        weight: 0,
        counted: false,
        reason,
      })
    if (v.proposalHash !== proposal.hash) reject('wrong-proposal')
    else if (!project || !voteSignatureValid(project, v)) reject('bad-signature')
    else if (!eligible.has(v.voter)) reject('ineligible')
    else if (seen.has(v.voter)) reject('duplicate')
    else if (closes !== null && rec.round > closes) reject('late')
    else {
      seen.add(v.voter)
      const weight = eligible.get(v.voter)!
      if (v.choice === 'yes') yes += weight
      else no += weight
      votes.push({ index: rec.index, voter: v.voter, choice: v.choice, weight, counted: true })
    }
  }
  const eligibleWeight = [...eligible.values()].reduce((a, b) => a + b, 0)
  const cast = yes + no
  const quorumMet = eligibleWeight > 0 && cast >= policy.quorum * eligibleWeight
  const passes = quorumMet && yes > 0 && yes >= policy.threshold * cast
  return {
    proposal,
    policy,
    status: decided ? (passes ? 'passed' : 'failed') : 'open',
    closesAfterRound: closes,
    effectiveRound: closes === null ? null : closes + 1,
    eligible: [...eligible].map(([voter, weight]) => ({ voter, weight })),
    eligibleWeight,
    yes,
    no,
    quorumMet,
    votes,
    enactedAt: enactedRound(state, proposal.index),
    changesTerms: changesTerms(proposal.value.change),
  }
}

/** Tallies of every proposal, in ledger order. */
export function tallies(state: LedgerState): Tally[] {
  return proposalsOf(state).map((p) => tally(state, p))
}

/** Passed proposals the host must enact in front of round-open `round` (not yet enacted). */
export function dueEnactments(state: LedgerState, round: number): number[] {
  return tallies(state)
    .filter((t) => t.status === 'passed' && t.effectiveRound === round && t.enactedAt === null)
    .map((t) => t.proposal.index)
}

/**
 * The hash of the terms in effect in `round` (what a contributor accepts): the charter's terms
 * (charter.ts termsHash), and, once a dataset amendment took effect, the dataset trained on, since
 * a change of data is a change of terms. While the ledger's own dataset is in use it is exactly
 * termsHash, so terms accepted before dataset amendments existed still match.
 */
export function termsAt(state: LedgerState, round: number): string {
  const m = effectiveManifest(state, round)
  const charter = termsHash(m.charter)
  if (m.dataset.key === state.manifest.dataset.key) return charter
  return createHash('sha256').update(`tandem/terms/v1\0${charter}\0${m.dataset.key}`).digest('hex')
}

/**
 * Whether a contributor may train round `round` under the terms then in effect. `accepted` is the
 * terms hash the contributor accepted (at joining, or later). It may also train if it voted yes on
 * the enacted proposal that brought the current terms in: it agreed to exactly them.
 */
export function termsConsent(
  state: LedgerState,
  round: number,
  contributor: string,
  accepted: string | undefined,
): { ok: boolean; terms: string; proposal: number | null } {
  const terms = termsAt(state, round)
  if (accepted === undefined || accepted === terms) return { ok: true, terms, proposal: null }
  // The last terms-changing proposal in effect by `round`.
  let last: ProposalRecord | null = null
  const byIndex = new Map(proposalsOf(state).map((p) => [p.index, p]))
  for (const rec of state.rounds) {
    if (rec.round > round) break
    for (const i of rec.enacted ?? []) {
      const p = byIndex.get(i)
      if (p && changesTerms(p.value.change)) last = p
    }
  }
  if (!last) return { ok: true, terms, proposal: null }
  const t = tally(state, last)
  const votedYes = t.votes.some((v) => v.counted && v.voter === contributor && v.choice === 'yes')
  return { ok: votedYes, terms, proposal: last.index }
}

/**
 * Why a vote may not be recorded now (null: it may): the checks of `tally`, against the ledger as
 * it is, plus "the vote is over". The host runs it before recording (host/vote-intake.ts).
 */
export function voteRejection(
  state: LedgerState,
  vote: Vote,
): { reason: VoteRejection | 'no-proposal' | 'closed'; message: string } | null {
  const proposal = state.governance?.proposals.find((p) => p.index === vote.proposal)
  if (!proposal) return { reason: 'no-proposal', message: `no proposal ${vote.proposal}` }
  if (vote.proposalHash !== proposal.hash)
    return { reason: 'wrong-proposal', message: 'the vote is for another text of the proposal' }
  if (!state.key || !voteSignatureValid(state.key, vote))
    return { reason: 'bad-signature', message: 'the vote signature does not verify' }
  const t = tally(state, proposal)
  if (t.status !== 'open')
    return { reason: 'late', message: `the vote on proposal ${vote.proposal} is over` }
  if (!t.eligible.some((e) => e.voter === vote.voter))
    return {
      reason: 'ineligible',
      message: 'the voter has no accepted work in the rounds the policy counts',
    }
  if (t.votes.some((v) => v.counted && v.voter === vote.voter))
    return { reason: 'duplicate', message: 'this contributor has voted on the proposal already' }
  return null
}

function at(obj: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    )
}

/** The manifest fields a change touches. */
function touched(change: Change): string[] {
  switch (change.kind) {
    case 'charter':
      return ['purpose', 'prohibitedUses', 'weights', 'dataSources', 'host', 'governance'].map(
        (f) => `charter.${f}`,
      )
    case 'licence':
      return ['charter.weights.licence', 'charter.weights.download']
    case 'host':
      return ['charter.host']
    case 'aggregation':
      return ['aggregation.rule']
    case 'recipe':
      return Object.keys(change)
        .filter((k) => k !== 'kind')
        .map((k) => `recipe.${k}`)
    case 'dataset':
      return ['dataset.key']
    case 'model':
      return ['model']
  }
}

/** What a change does to the manifest `m`: each touched field, before → after (JSON text). */
export function amendmentDiff(
  m: Manifest,
  change: Change,
): Array<{ field: string; from: string; to: string }> {
  const after = applyChange(m, change)
  const text = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v))
  const diff = touched(change)
    .map((field) => ({ field, from: text(at(m, field)), to: text(at(after, field)) }))
    .filter((d) => d.from !== d.to)
  // What is not a manifest field but is part of what voters approve.
  if (change.kind === 'dataset' && change.dataset.contentHash)
    diff.push({
      field: 'dataset.contentHash',
      from: '(not pinned)',
      to: change.dataset.contentHash,
    })
  if (change.kind === 'model')
    diff.push({
      field: 'weights',
      from: 'continue from the last checkpoint',
      to: `fresh initialisation from seed ${change.init.seed} (outer momentum reset)`,
    })
  return diff
}
