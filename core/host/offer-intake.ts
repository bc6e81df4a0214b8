/**
 * Taking update offers (docs/host.md, "Offers"): checked in a fixed order (project, round,
 * retransmission, ROUND_FULL, TOO_MANY_OFFERS, size), journaled (fsync) before they are
 * acknowledged `received`, and handed to update-downloads.ts unless an offer-stage rule of the
 * verdict table (verdicts.ts, via settle.ts) decides them without their bytes: those are recorded
 * for the receipt and never downloaded.
 */
import type { Manifest } from '../ledger/manifest.js'
import { UPDATE_CHUNK_BYTES } from '../ledger/updates.js'
import type { Peer } from '../net/peer.js'
import { encodedSize } from '../engine/compress/codec.js'
import { compressOnce } from '../engine/compress/error-feedback.js'
import type { RejectionReason } from '../ledger/entries.js'
import type { UpdateOffer, WireMessage } from '../wire/messages.js'
import { ACK_REASON, sendAck, sendFinalAck } from './acks.js'
import {
  offerKey,
  roundFacts,
  usableCount,
  type Entry,
  type HostContext,
  type OpenRound,
} from './host-context.js'
import type { JournalOffer } from './journal.js'
import { parameterCount } from './round.js'
import { collectingVerdict } from './settle.js'
import { updateCoreKey } from '../ledger/update-core.js'
import type { UpdateDownloads } from './update-downloads.js'

/** The most bytes a valid update of this project can take (any codec, never more than f32). */
export function maxUpdateBytes(manifest: Manifest): number {
  const n = parameterCount(manifest)
  const sized = encodedSize(compressOnce(new Float32Array(n), manifest.recipe.compression))
  return Math.max(sized, 12 + 4 * n)
}

/** Offers one round records at most: room for retries and rejects, far below the receipt cap. */
export function maxRoundEntries(manifest: Manifest): number {
  return Math.min(9_000, 4 * manifest.recipe.maxUpdates + 256)
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')

export class OfferIntake {
  constructor(
    private readonly ctx: HostContext,
    private readonly downloads: UpdateDownloads,
  ) {}

  onMessage(peer: Peer, msg: WireMessage): void {
    if (this.ctx.stopping || msg.type !== 'updateOffer') return
    const m = msg.body
    if (!this.ctx.project.equals(m.project)) return // another project's business
    this.onOffer(peer, m)
  }

  /** Adds an offer to the open round (a new one, or a journaled one on resume) and fetches it. */
  addEntry(o: OpenRound, line: JournalOffer): Entry {
    const entry: Entry = {
      ...line,
      verdict: this.knownVerdict(o, line, o.entries.length),
      encoded: null,
      fetchError: null,
      fetching: null,
      lateFetchError: null,
    }
    o.entries.push(entry)
    o.byKey.set(offerKey(line), entry)
    if (entry.verdict === null) entry.fetching = this.downloads.fetch(o, entry)
    return entry
  }

  /** A verdict that needs no download, for the entry at `index` while the round collects. */
  knownVerdict(o: OpenRound, e: JournalOffer, index: number): RejectionReason | null {
    return collectingVerdict(o.entries, e, index, roundFacts(o))
  }

  private onOffer(peer: Peer, m: UpdateOffer): void {
    const { ctx } = this
    const contributor = peer.hexKey
    const hash = hexOf(m.hash)
    const o = ctx.open
    const reject = (reason: string) => {
      sendAck(ctx, peer.key, m.round, m.hash, 'rejected', reason)
      ctx.emit('offer', { round: m.round, contributor, hash, status: 'rejected', reason })
    }
    if (!o || m.round !== o.round) {
      const rec = ctx.ledger.state.rounds[m.round]
      const c = rec?.receipt?.contributions.find(
        (x) => x.contributor === contributor && x.updateHash === hash,
      )
      if (c) return sendFinalAck(ctx, m.round, c) // a contributor that missed its verdict
      return reject(m.round < ctx.ledger.round || rec?.receipt ? 'ROUND_CLOSED' : 'WRONG_ROUND')
    }
    const known = o.byKey.get(offerKey({ contributor, core: hexOf(m.core), start: m.start, hash }))
    if (known) return this.onRetransmission(peer, m, o, known)
    if (o.snapshotted) return reject('ROUND_CLOSED')
    // Never before the round opened, even if the wall clock stepped back since.
    const receivedAt = Math.max(ctx.now(), o.openedAt)
    if (o.closeStarted && receivedAt <= o.deadline) return reject('ROUND_FULL')
    if (
      o.entries.filter((e) => e.contributor === contributor).length >= ctx.limits.maxOffersPerPeer
    )
      return reject('TOO_MANY_OFFERS')
    // Every entry is listed in the receipt, which holds at most 10,000 contributions; identities
    // cost nothing, so cap what a round records (rejected-without-download offers included).
    if (o.entries.length >= ctx.limits.maxRoundEntries) return reject('ROUND_FULL')
    if (m.byteLength > ctx.limits.maxBytes) return reject('UPDATE_TOO_LARGE')
    if (m.length < 2 || Math.ceil(m.byteLength / UPDATE_CHUNK_BYTES) !== m.length - 1)
      return reject('UPDATE_INVALID')
    const usable = usableCount(o)
    const line: JournalOffer = {
      t: 'offer',
      round: o.round,
      contributor,
      core: hexOf(m.core),
      start: m.start,
      length: m.length,
      byteLength: m.byteLength,
      hash,
      samples: m.samples,
      receivedAt,
      signatureValid: updateCoreKey(peer.key, ctx.project).equals(m.core),
    }
    const verdict = this.knownVerdict(o, line, o.entries.length)
    if (verdict === null && usable >= ctx.ledger.effectiveManifest(o.round).recipe.maxUpdates)
      return reject('ROUND_FULL')
    const entry = this.addEntry(o, line)
    // Journal before acknowledging: once `received` is sent, a restart must still know the offer.
    const journaled = ctx.journal?.append(line) ?? Promise.resolve()
    journaled.then(
      () => {
        sendAck(ctx, peer.key, o.round, m.hash, 'received')
        const verdict = entry.verdict
        ctx.emit('offer', {
          round: o.round,
          contributor,
          hash,
          ...(verdict
            ? { status: 'recorded', reason: ACK_REASON[verdict] }
            : { status: 'received' }),
        })
      },
      (err: unknown) => ctx.emit('warning', err),
    )
  }

  /** The same contributor, core, start and hash as a journaled offer: acknowledged again. */
  private onRetransmission(peer: Peer, m: UpdateOffer, o: OpenRound, known: Entry): void {
    const { ctx } = this
    // An update that was not available may be now (the contributor was away): try once more.
    if (known.fetchError === 'UPDATE_UNAVAILABLE' && !o.closeStarted) {
      known.fetchError = null
      known.fetching = this.downloads.fetch(o, known)
    }
    if (known.fetchError) {
      sendAck(ctx, peer.key, m.round, m.hash, 'rejected', known.fetchError)
      ctx.emit('offer', {
        round: m.round,
        contributor: peer.hexKey,
        hash: hexOf(m.hash),
        status: 'rejected',
        reason: known.fetchError,
      })
    } else sendAck(ctx, peer.key, m.round, m.hash, 'received')
    ctx.emit('offer', {
      round: m.round,
      contributor: peer.hexKey,
      hash: hexOf(m.hash),
      status: 'retransmitted',
    })
  }
}
