/**
 * Which offers a round's receipt lists, and their verdicts without bytes, as the host decides them
 * (pure; update-downloads.ts does the downloads). The rules themselves are the offer stage of the
 * table in verdicts.ts, which computeRound and verify read too, so the receipt says what a verifier
 * replaying it will. docs/host.md ("Settling at close") has the long version.
 *
 * While a round collects offers each new one is judged against the ones before it whose download
 * has not failed. At close (settlePass) all are judged again in arrival order: downloads that
 * failed leave the receipt, so verdicts that depended on them (a duplicate of that hash, a second
 * update of that contributor, one made stale by a deadline extension or a successful re-send)
 * change, and an offer whose verdict is now "decided by its bytes" must have them.
 */
import type { RejectionReason } from '../ledger/entries.js'
import type { JournalOffer } from './journal.js'
import { noEarlier, noteOffer, offerVerdict, type RoundFacts } from './verdicts.js'

export interface OfferState extends JournalOffer {
  /** Known without the bytes (null: the bytes decide). */
  verdict: RejectionReason | null
  encoded: Uint8Array | null
  /** A download that failed while the round collected offers: acked rejected, out of the receipt. */
  fetchError: string | null
  /** A download tried while closing that failed. */
  lateFetchError: string | null
}

/** An offer with the verdict it gets among the offers kept before it. */
export interface Kept<E extends OfferState> {
  entry: E
  verdict: RejectionReason | null
}

/** Parallel download waves closing may add for verdicts that changed (each ≤ fetchTimeoutMs). */
export const CLOSE_FETCH_WAVES = 3

/** While collecting: the verdict of the offer at `index` among those before it still standing. */
export function collectingVerdict<E extends OfferState>(
  entries: readonly E[],
  e: JournalOffer,
  index: number,
  round: RoundFacts,
): RejectionReason | null {
  const earlier = noEarlier()
  for (const x of entries.slice(0, index)) if (!x.fetchError) noteOffer(earlier, x, x.verdict)
  return offerVerdict(e, earlier, round)
}

/**
 * The receipt's offers and verdicts as things stand: failed downloads left out, and an offer whose
 * bytes decide but whose late download failed left out too.
 */
export function settlePass<E extends OfferState>(
  entries: readonly E[],
  round: RoundFacts,
): Kept<E>[] {
  const kept: Kept<E>[] = []
  const earlier = noEarlier()
  for (const entry of entries) {
    if (entry.fetchError) continue
    const verdict = offerVerdict(entry, earlier, round)
    if (verdict === null && !entry.encoded && entry.lateFetchError) continue
    noteOffer(earlier, entry, verdict)
    kept.push({ entry, verdict })
  }
  return kept
}

/** Kept offers whose bytes decide but are not here. */
export function missingBytes<E extends OfferState>(kept: ReadonlyArray<Kept<E>>): E[] {
  return kept.filter((k) => k.verdict === null && !k.entry.encoded).map((k) => k.entry)
}

/**
 * What one closing wave downloads: the offers that need their bytes and every later duplicate of
 * their hash or contributor (it would need its bytes if theirs fail), all at once, so free
 * identities cannot chain one timeout after another.
 */
export function closeFetchWave<E extends OfferState>(
  entries: readonly E[],
  need: readonly E[],
): E[] {
  const first = Math.min(...need.map((e) => entries.indexOf(e)))
  const related = entries.filter(
    (e, i) =>
      i > first &&
      !need.includes(e) &&
      e.verdict === 'duplicate' &&
      !e.encoded &&
      !e.fetchError &&
      !e.lateFetchError &&
      need.some((n) => n.hash === e.hash || n.contributor === e.contributor),
  )
  return [...need, ...related]
}
