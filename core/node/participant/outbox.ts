/**
 * The offer outbox: one offer per round this node published an update for, and the rules for
 * sending it again. The host's acks are only progress reports and the ledger's receipt settles an
 * offer, so an offer that is not acknowledged goes again: when the host (re)connects, on every
 * roundOpen for its round (a restarted host forgot it), and after `retryMs` without an answer. An
 * offer whose round already has a receipt is never re-sent. docs/node.md, "Participant".
 */
import type Hypercore from 'hypercore'
import type { Contribution } from '../../ledger/entries.js'
import { overlapMode } from '../../ledger/manifest.js'
import type { LedgerState } from '../../ledger/reader.js'
import { lastUpdateHeader } from '../../ledger/updates.js'
import type { Ack, UpdateOffer } from '../../wire/messages.js'
import type { OfferRecord, SetState } from './types.js'

/** The way to the host. */
export interface OfferLink {
  /** False while nothing may be sent (the host is not known yet, or the participant stopped). */
  ready(): boolean
  /** The host is connected now. */
  connected(): boolean
  /** Sends one offer; throws when the channel fails. */
  send(offer: UpdateOffer): void
}

export interface OutboxOptions {
  link: OfferLink
  now: () => number
  /** Re-send an unacknowledged offer this often (ms). */
  retryMs: number
  /** The ledger already holds `round`'s receipt: its offer is settled there. */
  closed: (round: number) => boolean
  setState: SetState
  onOffer: (o: OfferRecord) => void
  onWarning: (err: unknown) => void
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')

export class Outbox {
  private readonly offers = new Map<number, OfferRecord>()

  constructor(private readonly opts: OutboxOptions) {}

  get retryMs(): number {
    return this.opts.retryMs
  }

  /** Records the offer of a published update (its hex hash) and sends it. */
  add(round: number, hash: string, offer: UpdateOffer): void {
    const o: OfferRecord = { round, hash, offer, status: 'sent', sentAt: null }
    this.offers.set(round, o)
    this.send(o)
  }

  has(round: number): boolean {
    return this.offers.has(round)
  }

  /** A copy of `round`'s offer. */
  get(round: number): OfferRecord | undefined {
    const o = this.offers.get(round)
    return o ? { ...o } : undefined
  }

  list(): OfferRecord[] {
    return [...this.offers.values()].map((o) => ({ ...o }))
  }

  /** An offer is still on its way (sent, or received but not settled). */
  pending(): boolean {
    return [...this.offers.values()].some((o) => o.status === 'sent' || o.status === 'received')
  }

  /** When our offer of `hash` for `round` first went out in this run, if it did. */
  firstSentAt(round: number, hash: string): number | undefined {
    const o = this.offers.get(round)
    return o?.hash === hash ? o.firstSentAt : undefined
  }

  /** Offers the host has not acknowledged yet (or, `stale`, not for retryMs) go again. */
  resend(stale = false): void {
    const { now, retryMs, closed } = this.opts
    for (const o of this.offers.values()) {
      if (o.status !== 'sent') continue
      if (stale && o.sentAt !== null && now() - o.sentAt < retryMs) continue
      if (closed(o.round)) continue
      this.send(o)
    }
  }

  /** The host announced `round`: if we offered in it and it is not settled, it may have restarted. */
  onRoundOpen(round: number): void {
    const o = this.offers.get(round)
    if (o && (o.status === 'sent' || o.status === 'received')) {
      o.status = 'sent'
      this.send(o)
    }
  }

  /** The host's ack (already checked to be from the host, for this project). */
  onAck(m: Ack): void {
    const o = this.offers.get(m.round)
    if (!o || o.hash !== hexOf(m.ref)) return
    if (o.status === 'accepted' || o.status === 'rejected' || o.status === 'not-in-receipt') return
    if (m.status === 'rejected' && m.reason === 'UPDATE_UNAVAILABLE') {
      // The host could not download it (we were away?): offered again after retryMs.
      o.sentAt = this.opts.now()
      o.reason = m.reason
      return
    }
    o.status = m.status
    if (m.reason) o.reason = m.reason
    this.opts.onOffer({ ...o })
    if (m.status === 'received')
      this.opts.setState('waiting-receipt', `round ${o.round}: the host has the update`)
    else this.opts.setState('waiting-receipt', `round ${o.round}: ${m.status} ${m.reason}`.trim())
  }

  /** `round`'s receipt is in the ledger: our offer's verdict is the contribution `me` made with it. */
  settle(round: number, contributions: readonly Contribution[], me: string): void {
    const o = this.offers.get(round)
    if (!o || o.status === 'accepted' || o.status === 'rejected') return
    const mine = contributions.find((c) => c.contributor === me && c.updateHash === o.hash)
    o.status = mine ? (mine.accepted ? 'accepted' : 'rejected') : 'not-in-receipt'
    if (mine?.reason) o.reason = mine.reason
    this.opts.onOffer({ ...o })
  }

  private send(o: OfferRecord): void {
    const { link, setState } = this.opts
    if (!link.ready()) return
    if (!link.connected()) {
      setState('host-offline', `round ${o.round}: update ready, waiting for the host`)
      return
    }
    try {
      link.send(o.offer)
      o.sentAt = this.opts.now()
      o.firstSentAt ??= o.sentAt
      setState('waiting-ack', `round ${o.round}: offered to the host`)
      this.opts.onOffer({ ...o })
    } catch (err) {
      this.opts.onWarning(err)
    }
  }
}

/**
 * After our own restart: the last update in our update core, if it is for the round still open
 * (same round, same starting checkpoint), is the offer to make again instead of training that
 * round a second time. Null when there is none.
 */
export async function publishedOffer(
  updateCore: Hypercore,
  ledger: LedgerState,
  project: Buffer,
): Promise<{ round: number; hash: string; offer: UpdateOffer } | null> {
  const cur = ledger.rounds.at(-1)
  if (!cur?.open || cur.receipt) return null
  const last = await lastUpdateHeader(updateCore)
  if (!last) return null
  const { index, header: h } = last
  if (h.project !== project.toString('hex') || h.round !== cur.round) return null
  // Overlap (overlap.ts): an update trained early started from the checkpoint before.
  const early =
    overlapMode(ledger.manifest) !== 'none' &&
    h.checkpointHash === ledger.rounds[cur.round - 1]?.checkpoint.contentHash
  if (h.checkpointHash !== cur.checkpoint.contentHash && !early) return null
  return {
    round: cur.round,
    hash: h.hash,
    offer: {
      project,
      round: cur.round,
      core: updateCore.key!,
      start: index,
      length: h.chunkCount + 1,
      byteLength: h.byteLength,
      hash: Buffer.from(h.hash, 'hex'),
      samples: h.samples,
    },
  }
}
