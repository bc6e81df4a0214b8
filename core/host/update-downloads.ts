/**
 * Downloading offered updates from the contributors' own cores (docs/host.md, "Offers" and
 * "Settling at close"): while the round collects offers, each offer whose verdict needs its bytes
 * is fetched at once (until the deadline plus fetchTimeoutMs); at close, settle() re-decides the
 * verdicts that depended on failed downloads (settle.ts) and fetches what they now need, in at
 * most CLOSE_FETCH_WAVES parallel waves. hypercore verifies every block against the contributor's
 * key, fetchUpdate checks the bytes against the offer.
 */
import { isTandemError } from '../api/errors.js'
import { fetchUpdate, type FetchedUpdate } from '../ledger/updates.js'
import { sendAck } from './acks.js'
import { roundFacts, type Entry, type HostContext, type OpenRound } from './host-context.js'
import { CLOSE_FETCH_WAVES, closeFetchWave, missingBytes, settlePass, type Kept } from './settle.js'

export class UpdateDownloads {
  constructor(private readonly ctx: HostContext) {}

  /**
   * Fetches an update while the round collects: a failure is acknowledged `rejected` with its
   * UPDATE_* code (the entry leaves the receipt); maxUpdates updates in starts closing.
   */
  async fetch(o: OpenRound, e: Entry): Promise<void> {
    const { ctx } = this
    try {
      const timeout = Math.max(o.deadline - ctx.now(), 0) + ctx.limits.fetchTimeoutMs
      const got = await this.download(o, e, timeout)
      e.encoded = got.encoded
      e.startedFrom = got.header.checkpointHash
    } catch (err) {
      if (ctx.stopping) return // cores closed under it: the round resumes at the next start
      if (!isTandemError(err)) ctx.emit('warning', err)
      e.fetchError = isTandemError(err) ? err.code : 'UPDATE_UNAVAILABLE'
      sendAck(ctx, Buffer.from(e.contributor, 'hex'), o.round, e.hash, 'rejected', e.fetchError)
      ctx.emit('offer', {
        round: o.round,
        contributor: e.contributor,
        hash: e.hash,
        status: 'rejected',
        reason: e.fetchError,
      })
      return
    }
    const ready = o.entries.filter((x) => x.encoded && x.verdict === null).length
    if (!o.closeStarted && ready >= ctx.ledger.effectiveManifest(o.round).recipe.maxUpdates) {
      o.closeStarted = true
      o.wake()
    }
  }

  /**
   * The receipt's entries and verdicts, with the bytes each needs. An update whose download failed
   * leaves the receipt, so verdicts that depended on it (a duplicate of its hash, a second update
   * of its contributor) are decided again, as computeRound and a verifier will see them; updates
   * that now need their bytes are downloaded, together with the later duplicates that would need
   * theirs if those failed too, all at once, in a few waves at most (a free identity cannot chain
   * one timeout after another). What still lacks bytes it needs is left out of the receipt.
   */
  async settle(o: OpenRound): Promise<Kept<Entry>[]> {
    const { ctx } = this
    const pass = () => settlePass(o.entries, roundFacts(o))
    let kept = pass()
    for (let wave = 0; wave < CLOSE_FETCH_WAVES && !ctx.stopping; wave++) {
      const need = missingBytes(kept)
      if (need.length === 0) break
      await Promise.all(closeFetchWave(o.entries, need).map((e) => this.fetchWhileClosing(o, e)))
      kept = pass()
    }
    // Out of waves (or stopping): whatever still lacks its bytes is left out.
    for (
      let need = missingBytes(kept);
      need.length > 0 && !ctx.stopping;
      need = missingBytes(kept)
    ) {
      for (const e of need) e.lateFetchError = 'UPDATE_UNAVAILABLE'
      kept = pass()
    }
    if (!ctx.stopping) {
      const listed = new Set(kept.map((k) => k.entry))
      for (const e of o.entries)
        if (!listed.has(e) && !e.fetchError && e.lateFetchError)
          sendAck(
            ctx,
            Buffer.from(e.contributor, 'hex'),
            o.round,
            e.hash,
            'rejected',
            e.lateFetchError,
          )
    }
    return kept
  }

  /** A download for settle(): no ack (the receipt or its absence answers), its own error. */
  private async fetchWhileClosing(o: OpenRound, e: Entry): Promise<void> {
    try {
      const got = await this.download(o, e, this.ctx.limits.fetchTimeoutMs)
      e.encoded = got.encoded
      e.startedFrom = got.header.checkpointHash
    } catch (err) {
      if (this.ctx.stopping) return
      if (!isTandemError(err)) this.ctx.emit('warning', err)
      e.lateFetchError = isTandemError(err) ? err.code : 'UPDATE_UNAVAILABLE'
    }
  }

  /** The offered update (header and bytes) from the contributor's core, verified against the offer. */
  private async download(o: OpenRound, e: Entry, timeout: number): Promise<FetchedUpdate> {
    const core = this.ctx.store.get({ key: Buffer.from(e.core, 'hex') })
    o.cores.push(core)
    const got = await fetchUpdate(core, {
      start: e.start,
      length: e.length,
      byteLength: e.byteLength,
      expectedHash: e.hash,
      project: this.ctx.project,
      round: o.round,
      maxBytes: this.ctx.limits.maxBytes,
      // 0 would mean "wait forever" to hypercore
      timeout: Math.max(1, timeout),
    })
    return got
  }
}
