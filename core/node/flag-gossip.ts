/**
 * Spreads flags (flags.ts) through the swarm: a flag this node makes or learns goes on to every
 * peer of that project that knows `flag` messages (hello protocol 2), except the one it came from;
 * a peer that joins a project is sent SYNC_FLAGS flags of it, contributors' first, then the newest
 * (below the receiver's per-peer rate, so a resync never looks like a flood, and a flood of fresh
 * identities cannot crowd the flags of the people who trained the project out of it). Peers' flags are rate-limited per peer.
 */
import type { Peer } from '../net/peer.js'
import type { SwarmNode } from '../net/swarm-node.js'
import type { WireMessage } from '../wire/messages.js'
import {
  flagFromWire,
  flagToWire,
  FlagRate,
  PEER_RATE,
  refuseFlag,
  signFlag,
  type Flag,
  type FlagBook,
} from './flags.js'

export const SYNC_FLAGS = Math.floor(PEER_RATE / 2)

export interface FlagGossipOptions {
  node: SwarmNode
  book: FlagBook
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  /** A new flag arrived or was made (for the UI). */
  onFlag?: (f: Flag) => void
  now?: () => number
}

export class FlagGossip {
  private readonly rate: FlagRate
  private detach: (() => void) | null = null

  constructor(private readonly opts: FlagGossipOptions) {
    this.rate = new FlagRate(opts.now)
  }

  start(): void {
    const { node } = this.opts
    const onMessage = (peer: Peer, msg: WireMessage) => {
      if (msg.type === 'flag') this.receive(peer, flagFromWire(msg.body))
    }
    const onPeer = (peer: Peer) => this.sync(peer)
    node.on('message', onMessage)
    node.on('peer', onPeer)
    node.on('peer-update', onPeer)
    this.detach = () => {
      node.off('message', onMessage)
      node.off('peer', onPeer)
      node.off('peer-update', onPeer)
    }
  }

  stop(): void {
    this.detach?.()
    this.detach = null
  }

  /** Flags a project as this node (one flag per project; a new one replaces it after a while). */
  flag(project: string, reason: string): Flag {
    const f = signFlag(project, reason, this.opts.keyPair, (this.opts.now ?? Date.now)())
    const r = this.opts.book.add(f)
    if (r.outcome === 'refused') throw refuseFlag(r.why ?? 'refused')
    this.opts.onFlag?.(f)
    this.forward(f, null)
    return f
  }

  private receive(peer: Peer, f: Flag): void {
    if (!this.rate.allow(peer.hexKey)) return
    const r = this.opts.book.add(f)
    if (r.outcome !== 'added' && r.outcome !== 'replaced') return
    this.opts.onFlag?.(f)
    this.forward(f, peer)
  }

  private forward(f: Flag, from: Peer | null): void {
    const project = Buffer.from(f.project, 'hex')
    for (const peer of this.opts.node.projectPeers(project)) {
      if (peer === from || !peer.knows('flag')) continue
      try {
        peer.send('flag', flagToWire(f))
      } catch {
        // Gone or not draining: it gets the flag at its next sync.
      }
    }
  }

  private sync(peer: Peer): void {
    if (!peer.knows('flag')) return
    for (const key of peer.hello?.projects ?? []) {
      const flags = this.opts.book.ranked(Buffer.from(key).toString('hex')).slice(0, SYNC_FLAGS)
      for (const f of flags) {
        try {
          peer.send('flag', flagToWire(f))
        } catch {
          return
        }
      }
    }
  }
}
