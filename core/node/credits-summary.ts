/**
 * What the UI shows of this node's receipts: each receipt as a contract ReceiptView, and the
 * credits summary (totals, RAC, reputation per project) computed from them. The host computed
 * every number in a receipt (replaying the ledger with `tandem verify` checks them); RAC and
 * reputation follow each project's credit policy. Pure: the caller passes the clock.
 */
import type { CreditsSummary, ReceiptView } from '../api/contract.js'
import { racAt, type CreditPolicy } from '../ledger/credits.js'
import { addContribution, newStanding, type Standing } from '../ledger/standing.js'
import type { ReceiptRecord } from './participant/participant.js'

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null
}

/** A receipt of `project` as the UI and node-state.json keep it. */
export function receiptView(project: string, projectName: string, r: ReceiptRecord): ReceiptView {
  return {
    project,
    projectName,
    round: r.round,
    closedAt: r.closedAt,
    updateHash: r.updateHash,
    accepted: r.accepted,
    reason: r.reason ?? null,
    samples: r.samples,
    quality: r.quality,
    credits: r.credits,
    // A non-finite loss would be written as null and make the state file fail its schema.
    lossBefore: finiteOrNull(r.score?.lossBefore),
    lossAfter: finiteOrNull(r.score?.lossAfter),
    ...(r.receivedAt !== undefined ? { receivedAt: r.receivedAt } : {}),
    ...(r.deadline !== undefined ? { deadline: r.deadline } : {}),
    ...(r.offeredAt !== undefined ? { offeredAt: r.offeredAt } : {}),
  }
}

/**
 * Credits as `receipts` record them, for the contributor `me` (hex key), as of `now` (Unix ms).
 * `policyOf` gives each project's credit policy.
 */
export function creditsSummary(
  receipts: readonly ReceiptView[],
  me: string,
  policyOf: (project: string) => CreditPolicy,
  now: number,
): CreditsSummary {
  const sorted = [...receipts].sort((a, b) => a.closedAt - b.closedAt)
  const per = new Map<string, { name: string; policy: CreditPolicy; standing: Standing }>()
  const history: CreditsSummary['history'] = []
  let total = 0
  for (const r of sorted) {
    let p = per.get(r.project)
    if (!p) {
      const policy = policyOf(r.project)
      p = { name: r.projectName, policy, standing: newStanding(me, policy) }
      per.set(r.project, p)
    }
    addContribution(p.standing, r, r.closedAt, p.policy)
    total += r.credits
    history.push({ t: r.closedAt, total })
  }
  const projects = [...per].map(([project, { name, policy, standing: s }]) => ({
    project,
    name,
    credits: s.credits,
    rac: s.rac ? racAt(s.rac, now, policy.halfLifeDays) : 0,
    reputation: s.reputation,
    accepted: s.accepted,
    rejected: s.rejected,
  }))
  return { total, rac: projects.reduce((sum, p) => sum + p.rac, 0), projects, history }
}
