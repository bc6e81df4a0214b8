/**
 * The credit rule applied to receipts. The host calls `contributionCredits` to fill a receipt and
 * the writer and any verifier call `checkReceiptCredits` on it: both derive credits from the
 * manifest's model and credit policy, the samples the host assigned, and the quality it scored,
 * never from anything the contributor claimed.
 */
import { TandemError } from '../api/errors.js'
import { trainFlopsPerSample } from '../engine/spec/cost.js'
import { creditsFor } from './credits.js'
import type { Contribution, Receipt } from './entries.js'
import type { Manifest } from './manifest.js'

export function contributionCredits(
  manifest: Manifest,
  c: Pick<Contribution, 'samples' | 'quality' | 'accepted'>,
): number {
  if (!c.accepted) return 0
  return creditsFor(trainFlopsPerSample(manifest.model), c.samples, c.quality, manifest.credits)
}

/** Throws LEDGER_CREDIT_MISMATCH naming the round and contributor whose credits are wrong. */
export function checkReceiptCredits(manifest: Manifest, receipt: Receipt): void {
  for (const c of receipt.contributions) {
    const expected = contributionCredits(manifest, c)
    if (c.credits !== expected) {
      throw new TandemError(
        'LEDGER_CREDIT_MISMATCH',
        `round ${receipt.round}: ${c.contributor} was granted ${c.credits} credits, ` +
          `the rule gives ${expected} (update ${c.updateHash})`,
      )
    }
  }
}
