/**
 * The contributor's side of the one-step-delay overlap (recipe.outer.overlap = 'one-step-delay';
 * the host's side is core/host/rebase.ts). Once this node has offered its round-r update and round
 * r is still being collected and aggregated, it trains round r + 1 at once from checkpoint r (the
 * one it already holds) instead of idling until checkpoint r + 1 and round r + 1's open. The update
 * is published with checkpoint r's hash in its header, held until round r + 1 opens in the ledger
 * (the host refuses offers for a round it has not opened), then offered like any other.
 *
 * When it does not start early, and why:
 *   - the recipe in effect has no overlap, or an amendment is due at the r + 1 boundary (the
 *     recipe of round r + 1 is not known yet);
 *   - round r is not open or already has its receipt (the normal path trains r + 1 from r + 1);
 *   - this node has not offered in round r, or holds an early update already (one round ahead at
 *     most: the host takes only checkpoints r + 1 and r for round r + 1);
 *   - the terms or the node's gate say no (consent, pause, duty cycle, another project's turn):
 *     the follow loop asks them for round r + 1 exactly as for a normal round.
 * A held update whose round closed without it, or that the ledger moved past, is dropped; one
 * whose round opened with a deadline already gone is dropped as late and its error-feedback
 * residual restored (as a late normal round leaves it).
 */
import { dueEnactments, effectiveManifest } from '../../ledger/governance.js'
import { overlapMode } from '../../ledger/manifest.js'
import type { LedgerState } from '../../ledger/reader.js'
import type { UpdateOffer } from '../../wire/messages.js'

/** An update trained early, published, not offered yet. */
export interface HeldUpdate {
  round: number
  hash: string
  offer: UpdateOffer
  saveResidual: () => Promise<void>
  /** Puts the error-feedback residual back as it was before this update (it is not offered). */
  restoreResidual: () => void
}

/**
 * The round to train early from checkpoint `round`'s weights, or null. `offered`: this node has
 * an offer for `round`; `holding`: it holds an early update already.
 */
export function earlyRound(state: LedgerState, offered: boolean, holding: boolean): number | null {
  const cur = state.rounds.at(-1)
  if (!cur?.open || cur.receipt || !offered || holding) return null
  const r = cur.round
  if (overlapMode(effectiveManifest(state, r)) === 'none') return null
  if (dueEnactments(state, r + 1).length > 0) return null
  return r + 1
}

/** What to do with a held update now that the ledger says `state`. */
export type HeldFate =
  | { kind: 'wait' }
  /** Its round is open: offer it (if its deadline has not passed). */
  | { kind: 'offer'; deadline: number }
  /** Its round closed or the ledger moved on: it can never be offered. */
  | { kind: 'drop'; why: string }

export function heldFate(state: LedgerState, held: HeldUpdate): HeldFate {
  const rec = state.rounds[held.round]
  const last = state.rounds.length - 1
  if (last > held.round || rec?.receipt)
    return { kind: 'drop', why: `round ${held.round} closed before it opened here` }
  if (!rec?.open) return { kind: 'wait' }
  // It was trained from checkpoint round − 1: the host takes that base for this round only.
  return { kind: 'offer', deadline: rec.open.deadline }
}

/**
 * Overlap only: the newest checkpoint is fetched in the background as soon as the ledger names it,
 * while this node still trains from the one before, so the next round starts from local blocks
 * instead of a download (readCheckpoint then reads what hypercore already stored). A failed fetch
 * costs nothing: the round's own read tries again.
 */
export class CheckpointPrefetch {
  private fetched = -1

  constructor(
    private readonly read: (state: LedgerState, round: number) => Promise<unknown>,
    private readonly onWarning: (err: unknown) => void,
  ) {}

  /** Starts fetching the ledger's newest checkpoint once (overlap projects only). */
  look(state: LedgerState): void {
    const last = state.rounds.length - 1
    if (last <= this.fetched) return
    if (overlapMode(effectiveManifest(state, last)) === 'none') return
    this.fetched = last
    this.read(state, last).catch((err: unknown) => {
      if (this.fetched === last) this.fetched = last - 1 // the round's own read tries again
      this.onWarning(err)
    })
  }
}
