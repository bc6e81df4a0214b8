/**
 * The swarm node's connections: each accepted one becomes a Peer with a `tandem/1` control channel
 * on the same mux as the corestore's replication, says hello when the channel opens (and again
 * when the node's projects change), and is forgotten when it closes. Refusals (banned, too many
 * peers) happen here, before anything reads the connection. docs/wire.md has the protocol.
 */
import type Corestore from 'corestore'
import type { EventEmitter } from 'node:events'
import type Hyperswarm from 'hyperswarm'
import type { TandemError } from '../api/errors.js'
import {
  WIRE_VERSION,
  type MessageBodies,
  type MessageKind,
  type RoleName,
  type WireMessage,
} from '../wire/messages.js'
import { ControlChannel } from './control-channel.js'
import type { NodeCounters } from './counters.js'
import type { PeerLimits } from './limits.js'
import { callListeners } from './listeners.js'
import { Peer } from './peer.js'
import type { NodeEvents } from './swarm-node-types.js'

export interface PeerConnectionsOptions {
  limits: PeerLimits
  maxPeers: number
  counters: NodeCounters
  roles: RoleName[]
  agent: string
  /** The projects this node is in, for its hello. */
  projects: () => Buffer[]
  isBanned: (key: Uint8Array) => boolean
  ban: (key: Uint8Array, reason: TandemError) => void
  /** A connection's error, e.g. to the fault policy (peer-faults.ts). */
  onConnectionError: (conn: Hyperswarm.Connection, err: unknown) => void
  /** See SwarmNodeOptions. */
  wrapConnection?: (conn: Hyperswarm.Connection) => void
  corestore?: Corestore
  /** Where peer, peer-update, peer-leave, message and warning go (the SwarmNode). */
  events: EventEmitter<NodeEvents>
  /** A connection was taken on. */
  onOpen: () => void
  /** A peer's connection is gone (after its peer-leave). */
  onClose: () => void
}

export class PeerConnections {
  private readonly peerMap = new Map<string, Peer>()

  constructor(private readonly opts: PeerConnectionsOptions) {}

  /** Every connection's peer, hello or not (for the fault policy). */
  byHexKey(hexKey: string): Peer | undefined {
    return this.peerMap.get(hexKey)
  }

  /** Peers that sent their hello, i.e. ready for messages. */
  ready(): Peer[] {
    return [...this.peerMap.values()].filter((p) => p.hello !== null)
  }

  /** A ready peer by key. */
  peer(key: Uint8Array): Peer | undefined {
    const peer = this.peerMap.get(Buffer.from(key).toString('hex'))
    return peer?.hello ? peer : undefined
  }

  projectPeers(project: Uint8Array): Peer[] {
    return this.ready().filter((p) => p.inProject(project))
  }

  /** Tells every peer whose channel is open what this node is now (its projects changed). */
  sendHelloToAll(): void {
    for (const peer of this.peerMap.values()) {
      if (peer.channel.opened) this.trySend(peer, 'hello', this.hello())
    }
  }

  accept(conn: Hyperswarm.Connection): void {
    const { counters, events } = this.opts
    counters.connections++
    // A connection without an error listener crashes the process when the peer vanishes.
    conn.on('error', (err: unknown) => this.opts.onConnectionError(conn, err))
    if (this.opts.isBanned(conn.remotePublicKey)) {
      counters.refused++
      conn.destroy()
      return
    }
    if (this.peerMap.size >= this.opts.maxPeers) {
      counters.refused++
      conn.destroy()
      return
    }
    try {
      this.opts.wrapConnection?.(conn)
    } catch (err) {
      events.emit('warning', err) // our bug, not the peer's: keep the connection, unwrapped
    }
    this.opts.corestore?.replicate(conn)

    const peer = new Peer(conn)
    this.peerMap.set(peer.hexKey, peer)
    peer.channel = new ControlChannel(conn, this.opts.limits, [peer.counters, counters], {
      onopen: () => this.trySend(peer, 'hello', this.hello()),
      onmessage: (message) => this.onMessage(peer, message),
      onviolation: (err) => this.opts.ban(peer.key, err),
      onhandlerError: (err) => {
        counters.handlerErrors++
        events.emit('warning', err)
      },
      onclose: () => {},
    })
    conn.once('close', () => this.onClose(peer))
    this.opts.onOpen()
  }

  private hello(): MessageBodies['hello'] {
    return {
      protocol: WIRE_VERSION,
      roles: this.opts.roles,
      projects: this.opts.projects(),
      agent: this.opts.agent,
    }
  }

  private trySend<K extends MessageKind>(peer: Peer, kind: K, body: MessageBodies[K]): void {
    try {
      peer.send(kind, body)
    } catch (err) {
      this.opts.events.emit('warning', err)
    }
  }

  private onMessage(peer: Peer, message: WireMessage): void | Promise<void> {
    const events = this.opts.events
    if (message.type !== 'hello') return callListeners(events, 'message', [peer, message])
    const first = peer.hello === null
    peer.hello = message.body
    events.emit(first ? 'peer' : 'peer-update', peer)
  }

  private onClose(peer: Peer): void {
    // A duplicate connection may already have replaced this one under the same key.
    if (this.peerMap.get(peer.hexKey) !== peer) return
    this.peerMap.delete(peer.hexKey)
    if (peer.hello) this.opts.events.emit('peer-leave', peer)
    this.opts.onClose()
  }
}
