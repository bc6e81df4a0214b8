/**
 * The participant's line to its project's host over the swarm. Only the manifest's host key is
 * listened to (its Noise handshake proves it), and only messages about this project; everything
 * else on the node's control channel belongs to someone else. Also the outbox's way to send, so the
 * outbox never sees the swarm node. docs/node.md, "Participant".
 */
import { TandemError } from '../../api/errors.js'
import type { SwarmNode } from '../../net/swarm-node.js'
import type { Peer } from '../../net/peer.js'
import type {
  Ack,
  RoundOpen,
  UpdateOffer,
  VoteMessage,
  VoteReceiptMessage,
  WireMessage,
} from '../../wire/messages.js'
import type { OfferLink } from './outbox.js'

export interface HostLinkOptions {
  node: SwarmNode
  project: Buffer
  /** The host announced a round (a new one, a resumed one, or a later deadline). */
  onRoundOpen: (m: RoundOpen) => void
  /** The host answered an offer. */
  onAck: (m: Ack) => void
  /** The host (re)connected. */
  onConnect: () => void
}

/** The host's answer to a vote: its ack, and the signed receipt it sent before an `accepted`. */
export interface VoteAnswer {
  ack: Ack
  receipt: VoteReceiptMessage | null
}

export class HostLink implements OfferLink {
  /** The manifest's host key, once the ledger has been read. */
  private host: Buffer | null = null
  private listening: (() => void) | null = null
  private closed = false
  /** Votes sent and not yet answered: ack ref (hex) → its waiter. */
  private readonly votes = new Map<string, (answer: VoteAnswer | null) => void>()
  /** Receipts that came for a vote still waiting for its ack: ack ref (hex) → receipt. */
  private readonly receipts = new Map<string, VoteReceiptMessage>()

  constructor(private readonly opts: HostLinkOptions) {}

  /** The host key from the manifest (it never changes for a project). */
  setHost(key: Buffer): void {
    this.host = key
  }

  /** Starts listening to the node. */
  open(): void {
    const { node } = this.opts
    const onMessage = (peer: Peer, msg: WireMessage) => this.onMessage(peer, msg)
    const onPeer = (peer: Peer) => {
      if (this.host && peer.key.equals(this.host)) this.opts.onConnect()
    }
    node.on('message', onMessage)
    node.on('peer', onPeer)
    node.on('peer-update', onPeer)
    this.listening = () => {
      node.off('message', onMessage)
      node.off('peer', onPeer)
      node.off('peer-update', onPeer)
    }
  }

  /**
   * Sends a vote to the host and resolves with its ack and receipt (null: no ack within
   * `timeoutMs`). PEER_UNKNOWN when the host is not connected; WRONG_STATE when it does not know
   * votes. The receipt is as received: the caller checks its signature.
   */
  sendVote(m: VoteMessage, ref: Buffer, timeoutMs = 15_000): Promise<VoteAnswer | null> {
    if (!this.host) throw new TandemError('PEER_UNKNOWN', 'the project host is not known yet')
    const key = ref.toString('hex')
    const answered = new Promise<VoteAnswer | null>((resolve) => {
      const timer = setTimeout(() => {
        this.votes.delete(key)
        this.receipts.delete(key)
        resolve(null)
      }, timeoutMs)
      timer.unref()
      this.votes.set(key, (answer) => {
        clearTimeout(timer)
        this.votes.delete(key)
        this.receipts.delete(key)
        resolve(answer)
      })
    })
    try {
      this.opts.node.send(this.host, 'vote', m)
    } catch (err) {
      this.votes.get(key)?.(null)
      throw err
    }
    return answered
  }

  /** Stops listening; nothing is sent any more. */
  close(): void {
    for (const done of [...this.votes.values()]) done(null)
    this.closed = true
    this.listening?.()
    this.listening = null
  }

  ready(): boolean {
    return !this.closed && this.host !== null
  }

  /** Whether the host's hello says it sends vote receipts (wire protocol 3). */
  sendsReceipts(): boolean {
    return this.host !== null && (this.opts.node.peer(this.host)?.knows('voteReceipt') ?? false)
  }

  connected(): boolean {
    return this.host !== null && this.opts.node.peer(this.host) !== undefined
  }

  send(offer: UpdateOffer): void {
    // The outbox asks ready() first; this is a wrong state, not a bad argument.
    if (!this.host) throw new TandemError('PEER_UNKNOWN', 'the project host is not known yet')
    this.opts.node.send(this.host, 'updateOffer', offer)
  }

  private onMessage(peer: Peer, msg: WireMessage): void {
    if (this.closed || !this.host || !peer.key.equals(this.host)) return
    if (msg.type === 'roundOpen') {
      if (this.opts.project.equals(msg.body.project)) this.opts.onRoundOpen(msg.body)
    } else if (msg.type === 'voteReceipt') {
      if (!this.opts.project.equals(msg.body.project)) return
      const key = Buffer.from(msg.body.voteHash).toString('hex')
      // Only for a vote we are waiting on: nothing unasked-for piles up here.
      if (this.votes.has(key)) this.receipts.set(key, msg.body)
    } else if (msg.type === 'ack') {
      if (!this.opts.project.equals(msg.body.project)) return
      const key = Buffer.from(msg.body.ref).toString('hex')
      const vote = this.votes.get(key)
      if (vote) vote({ ack: msg.body, receipt: this.receipts.get(key) ?? null })
      else this.opts.onAck(msg.body)
    }
  }
}
