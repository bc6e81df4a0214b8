/** One connected peer: its connection, control channel, what its hello said, and its counters. */
import type Hyperswarm from 'hyperswarm'
import type { Hello, MessageBodies, MessageKind } from '../wire/messages.js'
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

  /** Throws the control channel's coded errors (WIRE_CHANNEL_CLOSED, WIRE_BACKPRESSURE, …). */
  send<K extends MessageKind>(kind: K, body: MessageBodies[K]): void {
    this.channel.send(kind, body)
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
