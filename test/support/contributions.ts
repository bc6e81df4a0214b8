/** One receipt line for unit tests of code that reads receipts, with plain defaults. */
import type { Contribution } from '../../core/ledger/entries.js'

export function testContribution(
  o: { hash: string; contributor?: string; accepted?: boolean } & Partial<Contribution>,
): Contribution {
  const { hash, contributor = 'aa'.repeat(32), accepted = true, ...rest } = o
  return {
    contributor,
    updateCore: '11'.repeat(32),
    updateIndex: 0,
    updateHash: hash,
    samples: 8,
    quality: accepted ? 1 : 0,
    credits: accepted ? 1 : 0,
    accepted,
    ...(accepted ? {} : { reason: 'norm-outlier' as const }),
    ...rest,
  }
}
