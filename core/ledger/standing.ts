/**
 * Per-contributor standing (total credits, recent average credit, reputation), derived only by
 * replaying the receipts of a ledger. The host keeps no second table: what it shows and what it
 * weights aggregation with is what any auditor gets from the same receipts.
 */
import { updateRac, updateReputation, type CreditPolicy, type Rac } from './credits.js'
import type { Contribution, Receipt } from './entries.js'
import type { Manifest } from './manifest.js'

export interface Standing {
  contributor: string
  credits: number
  rac: Rac | null
  reputation: number
  accepted: number
  rejected: number
}

export function newStanding(contributor: string, policy: CreditPolicy): Standing {
  return {
    contributor,
    credits: 0,
    rac: null,
    reputation: policy.initialReputation,
    accepted: 0,
    rejected: 0,
  }
}

/** One receipt line added to a standing: the single rule the host, verifiers and nodes share. */
export function addContribution(
  s: Standing,
  c: Pick<Contribution, 'credits' | 'accepted' | 'quality'>,
  at: number,
  policy: CreditPolicy,
): void {
  s.credits += c.credits
  s.rac = updateRac(s.rac, c.credits, at, policy.halfLifeDays)
  // A rejected update counts as quality 0: reputation is about what reached the model.
  s.reputation = updateReputation(s.reputation, c.accepted ? c.quality : 0, policy)
  if (c.accepted) s.accepted++
  else s.rejected++
}

/** Replays receipts in ledger order; credits are summed in the order they were granted. */
export function replayStanding(
  manifest: Pick<Manifest, 'credits'>,
  receipts: readonly Receipt[],
): Map<string, Standing> {
  const table = new Map<string, Standing>()
  const policy = manifest.credits
  for (const receipt of receipts) {
    for (const c of receipt.contributions) {
      const s = table.get(c.contributor) ?? newStanding(c.contributor, policy)
      addContribution(s, c, receipt.closedAt, policy)
      table.set(c.contributor, s)
    }
  }
  return table
}
