/**
 * Checks voters' receipts against a ledger (docs/governance.md, "Vote receipts"): a vote the host
 * signed a receipt for must count in its proposal's tally once the vote is decided. The host records
 * a vote in the ledger before it sends the receipt, and a vote recorded before the closing round's
 * receipt counts, so an honest host's ledger always holds every receipted vote; one that does not
 * left it out. The verifier (core/host/verify.ts) and the voter's own node
 * (core/node/vote-receipt-watch.ts) both read this one rule.
 */
import { tallies, type Tally } from './governance.js'
import type { LedgerState } from './reader.js'
import { receiptedVoteProblem, type ReceiptedVote } from './vote-receipt.js'
import { voteRef } from './amendments.js'

export interface OmittedVote {
  proposal: number
  voter: string
  voteHash: string
  /** The round whose close decided the proposal (the problem belongs to it); null: no proposal. */
  decidedIn: number | null
  /** The ledger round the receipt says the vote arrived in. */
  arrivedIn: number
  why: string
}

export interface ReceiptAudit {
  /** Receipts that are the host's and were checked against a decided proposal. */
  checked: number
  omitted: OmittedVote[]
  /** Receipts for a proposal still being voted on: nothing to say yet. */
  pending: number
  /** Receipts that prove nothing (forged, for another vote or project), with the reason. */
  rejected: Array<{ proposal: number; voter: string; why: string }>
}

/** The vote hashes that count in a tally. */
function countedHashes(state: LedgerState, t: Tally): Set<string> {
  const byIndex = new Map((state.governance?.votes ?? []).map((v) => [v.index, v.value]))
  const out = new Set<string>()
  for (const v of t.votes) {
    const vote = v.counted ? byIndex.get(v.index) : undefined
    if (vote) out.add(voteRef(vote).toString('hex'))
  }
  return out
}

export function auditVoteReceipts(
  state: LedgerState,
  receipted: readonly ReceiptedVote[],
): ReceiptAudit {
  const audit: ReceiptAudit = { checked: 0, omitted: [], pending: 0, rejected: [] }
  const project = state.key
  const byProposal = new Map(tallies(state).map((t) => [t.proposal.index, t]))
  const counted = new Map<number, Set<string>>()
  const seen = new Set<string>()
  for (const rv of receipted) {
    const { receipt: r } = rv
    const why = project
      ? receiptedVoteProblem(rv, project, state.manifest.host)
      : 'the ledger state has no key'
    if (why) {
      audit.rejected.push({ proposal: r.proposal, voter: r.voter, why })
      continue
    }
    if (seen.has(r.voteHash)) continue // the same receipt from two sources
    seen.add(r.voteHash)
    const t = byProposal.get(r.proposal)
    const omitted = (decidedIn: number | null, text: string) =>
      audit.omitted.push({
        proposal: r.proposal,
        voter: r.voter,
        voteHash: r.voteHash,
        decidedIn,
        arrivedIn: r.round,
        why: text,
      })
    if (!t) {
      // The proposal preceded the vote; once the vote's round has closed the ledger must hold it.
      if (state.rounds[r.round]?.receipt) {
        audit.checked++
        omitted(
          null,
          `the host receipted a vote on proposal ${r.proposal}, which is not in the ledger`,
        )
      } else audit.pending++
      continue
    }
    if (t.status === 'open') {
      audit.pending++
      continue
    }
    audit.checked++
    let hashes = counted.get(r.proposal)
    if (!hashes) counted.set(r.proposal, (hashes = countedHashes(state, t)))
    if (!hashes.has(r.voteHash))
      omitted(
        t.closesAfterRound,
        `the host receipted ${r.voter.slice(0, 12)}…'s vote on proposal ${r.proposal} in round ${r.round}, but the ${t.status} tally (yes ${t.yes}, no ${t.no}) does not count it`,
      )
  }
  return audit
}
