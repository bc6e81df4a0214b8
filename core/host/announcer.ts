/**
 * Telling the project's peers about the project and its open round (docs/host.md, "Announce" and
 * the round state machine): a signed `announce` to every peer that joins, on each round change and
 * every announceEveryMs; `roundOpen` broadcast when a round opens or is extended, and sent to each
 * peer that joins while it is open. `seq` is max(previous + 1, now), so it grows across restarts.
 */
import type { Peer } from '../net/peer.js'
import type { Announce, RoundOpen } from '../wire/messages.js'
import { signAnnounce } from '../wire/signing.js'
import type { HostContext, OpenRound } from './host-context.js'

export class Announcer {
  private seq = 0
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly ctx: HostContext) {}

  /** Re-announces every `everyMs` until stop(). */
  start(everyMs: number): void {
    this.timer = setInterval(() => this.announce(), everyMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  /** To one peer, or broadcast. A failure to send is a warning: the next announce follows. */
  announce(peer?: Peer): void {
    if (this.ctx.stopping) return
    try {
      const body = this.announceBody()
      if (peer) peer.send('announce', body)
      else this.ctx.node.broadcast('announce', body)
      this.ctx.emit('announce', body)
    } catch (err) {
      this.ctx.emit('warning', err)
    }
  }

  /** roundOpen to every project peer (a round opened, resumed or was extended). */
  broadcastRoundOpen(o: OpenRound): void {
    this.ctx.node.broadcast('roundOpen', this.roundOpenBody(o), this.ctx.project)
  }

  /** A peer arrived or joined the project: tell it about the project and the open round. */
  onPeer(peer: Peer): void {
    if (this.ctx.stopping || !peer.inProject(this.ctx.project)) return
    this.announce(peer)
    const o = this.ctx.open
    if (o && !o.closeStarted) {
      try {
        peer.send('roundOpen', this.roundOpenBody(o))
      } catch (err) {
        this.ctx.emit('warning', err)
      }
    }
  }

  private roundOpenBody(o: OpenRound): RoundOpen {
    return {
      project: this.ctx.project,
      round: o.round,
      checkpointIndex: o.checkpointIndex,
      checkpointHash: Buffer.from(o.checkpointHash, 'hex'),
      deadline: o.deadline,
      innerSteps: this.ctx.manifest.recipe.innerSteps,
    }
  }

  private announceBody(): Announce {
    const { ctx } = this
    this.seq = Math.max(this.seq + 1, ctx.now())
    const o = ctx.open
    return signAnnounce(
      {
        project: ctx.project,
        host: ctx.keyPair.publicKey,
        name: ctx.manifest.name,
        dataset: Buffer.from(ctx.manifest.dataset.key, 'hex'),
        round: ctx.ledger.round,
        contributors: o ? new Set(o.entries.map((e) => e.contributor)).size : 0,
        open: Boolean(o && !o.closeStarted),
        seq: this.seq,
      },
      ctx.keyPair.secretKey,
    )
  }
}
