/** One connected peer: its connection, control channel, what its hello said, and its counters. */
import type Hyperswarm from 'hyperswarm'
import { TandemError } from '../api/errors.js'
import {
  PROTOCOL_SINCE,
  type Hello,
  type MessageBodies,
  type MessageKind,
} from '../wire/messages.js'
import type { ControlChannel } from './control-channel.js'
import { wireCounters, type WireCounters } from './counters.js'
import { displayId } from './identity.js'

export interface PeerStatus {
  key: string
  displayId: string
  /** Whether we dialled (true) or they did. */
  initiator: boolean
  roles: string[]
  projects: string[]
  agent: string | null
  connectedAt: number
  counters: WireCounters
}

export class Peer {
  readonly key: Buffer
  readonly hexKey: string
  readonly displayId: string
  readonly counters: WireCounters = wireCounters()
  readonly connectedAt = Date.now()
  hello: Hello | null = null
  channel!: ControlChannel

  constructor(readonly conn: Hyperswarm.Connection) {
    this.key = conn.remotePublicKey
    this.hexKey = this.key.toString('hex')
    this.displayId = displayId(this.key)
  }

  /**
   * Throws the control channel's coded errors (WIRE_CHANNEL_CLOSED, WIRE_BACKPRESSURE, …), and
   * WRONG_STATE for a type the peer's hello does not know (a newer type to an older peer, which
   * would count it as unknown: docs/wire.md).
   */
  send<K extends MessageKind>(kind: K, body: MessageBodies[K]): void {
    if (PROTOCOL_SINCE[kind] > 1 && (this.hello?.protocol ?? 1) < PROTOCOL_SINCE[kind])
      throw new TandemError('WRONG_STATE', `peer ${this.displayId} does not know ${kind} messages`)
    this.channel.send(kind, body)
  }

  /** Whether the peer's hello says it knows messages of this type. */
  knows(kind: MessageKind): boolean {
    return (this.hello?.protocol ?? 1) >= PROTOCOL_SINCE[kind]
  }

  inProject(project: Uint8Array): boolean {
    return this.hello?.projects.some((p) => Buffer.compare(p, project) === 0) ?? false
  }

  status(): PeerStatus {
    return {
      key: this.hexKey,
      displayId: this.displayId,
      initiator: this.conn.isInitiator,
      roles: this.hello?.roles ?? [],
      projects: this.hello?.projects.map((p) => Buffer.from(p).toString('hex')) ?? [],
      agent: this.hello?.agent ?? null,
      connectedAt: this.connectedAt,
      counters: { ...this.counters },
    }
  }
}
