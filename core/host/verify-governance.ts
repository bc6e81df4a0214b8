/**
 * `tandem verify`'s governance half (docs/governance.md, "Verification"): what the ledger's
 * proposals, votes and enactments say, and the vote receipts voters hold, as problems per round.
 * The round replay is verify.ts; the dataset and model swaps at a boundary, verify-boundary.ts.
 */
import type { ErrorCode } from '../api/errors.js'
import { tallies } from '../ledger/governance.js'
import type { LedgerState } from '../ledger/reader.js'
import type { ReceiptAudit } from '../ledger/vote-audit.js'
import type { VerifyProblem } from './verify.js'

/**
 * The governance checks (docs/governance.md), as problems per round: every amendment enacted in a
 * round passed under the policy in force when it was proposed and was enacted exactly at the
 * boundary after its vote; every passed amendment was enacted when its round opened; every vote the
 * host recorded is a valid signature of an eligible contributor, counted once, inside the period.
 */
export function verifyGovernance(
  state: LedgerState,
  audit?: ReceiptAudit,
): Map<number, VerifyProblem[]> {
  const out = new Map<number, VerifyProblem[]>()
  const add = (round: number, code: ErrorCode, message: string) =>
    out.set(round, [...(out.get(round) ?? []), { code, message }])
  // A receipted vote the decided tally leaves out belongs to the round whose close decided it; one
  // on a proposal missing from the ledger, to the round the vote arrived in.
  for (const o of audit?.omitted ?? [])
    add(
      o.decidedIn ?? o.arrivedIn,
      'VERIFY_VOTE_OMITTED',
      `round ${o.decidedIn ?? o.arrivedIn}: ${o.why}`,
    )
  for (const t of tallies(state)) {
    const p = t.proposal
    const name = `proposal ${p.index} ("${p.value.title}")`
    const count = `yes ${t.yes}, no ${t.no} of ${t.eligibleWeight} eligible`
    if (t.enactedAt !== null) {
      if (t.status !== 'passed')
        add(
          t.enactedAt,
          'VERIFY_UNAPPROVED_CHANGE',
          `round ${t.enactedAt} applies ${name}, which ${t.status === 'open' ? 'was still being voted on' : 'failed'} (${count})`,
        )
      else if (t.effectiveRound !== t.enactedAt)
        add(
          t.enactedAt,
          'VERIFY_UNAPPROVED_CHANGE',
          `round ${t.enactedAt} applies ${name}; its vote lets it take effect in round ${t.effectiveRound}`,
        )
    } else if (t.status === 'passed' && state.rounds[t.effectiveRound!]?.open) {
      add(
        t.effectiveRound!,
        'VERIFY_GOVERNANCE_MISMATCH',
        `${name} passed (${count}) but round ${t.effectiveRound} opened without it`,
      )
    }
    for (const v of t.votes)
      if (!v.counted) {
        const round = state.governance!.votes.find((x) => x.index === v.index)!.round
        add(
          round,
          'VERIFY_VOTE_INVALID',
          `round ${round}: the host recorded a vote on ${name} by ${v.voter.slice(0, 12)}… that cannot count (${v.reason})`,
        )
      }
  }
  return out
}
