/**
 * A peer that breaks the protocol on purpose. It speaks raw protomux on the `tandem/1` channel, so
 * it can send bytes no honest encoder would produce: garbage bodies, oversized frames, floods,
 * forged signatures, message type ids the protocol does not define, garbage mux frames under the
 * channel, and bad hypercore replication handshakes.
 */
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { randomBytes } from 'node:crypto'
import type Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import type { TestContext } from 'node:test'
import { createSwarm } from '../../core/net/swarm.js'
import { encodeMessage } from '../../core/wire/decode.js'
import {
  FORMAT_VERSION,
  MESSAGE_KINDS,
  MessageType,
  PROTOCOL,
  type MessageKind,
} from '../../core/wire/messages.js'

/** Message slots registered on the hostile channel: the defined types and some undefined ones. */
const TYPE_SLOTS = 16

/** hypercore's replication handshake (lib/messages.js `wire.handshake`): flags, then capability. */
const replicationHandshake = {
  preencode(state: Protomux.State, m: { capability: Uint8Array }) {
    c.uint.preencode(state, 1)
    c.fixed32.preencode(state, m.capability)
  },
  encode(state: Protomux.State, m: { capability: Uint8Array }) {
    c.uint.encode(state, 1) // seeks
    c.fixed32.encode(state, m.capability)
  },
  decode(state: Protomux.State) {
    c.uint.decode(state)
    return { capability: c.fixed32.decode(state) }
  },
}

export interface HostileChannel {
  conn: Hyperswarm.Connection
  send(kind: MessageKind, bytes: Uint8Array): void
  /** A message by type id, including ids `tandem/1` does not define (up to 15). */
  sendType(type: number, bytes: Uint8Array): void
  /**
   * Opens hypercore's replication channel for `discoveryKey` with a random capability: garbage the
   * remote's replicator refuses with INVALID_CAPABILITY, resetting the connection.
   */
  badReplicationHandshake(discoveryKey: Uint8Array): void
  /** A frame straight onto the connection, below protomux's channel framing. */
  raw(bytes: Uint8Array): void
  closed: Promise<void>
}

export interface HostilePeer {
  swarm: Hyperswarm
  keyPair: Hyperswarm.KeyPair
  publicKey: Buffer
  /** Dials `target` and resolves once the tandem channel is open. */
  connect(target: Buffer): Promise<HostileChannel>
  /** Resolves once `target` (e.g. a node that only looks topics up) has dialled in. */
  accept(target: Buffer): Promise<HostileChannel>
}

export function hostilePeer(
  t: TestContext,
  bootstrap: string[],
  keyPair: Hyperswarm.KeyPair = crypto.keyPair(),
): HostilePeer {
  const swarm = createSwarm(bootstrap, { keyPair })
  t.after(() => swarm.destroy())
  const pending = new Map<string, (ch: HostileChannel) => void>()
  // Channels already open, for accept() called after the target dialled in.
  const opened = new Map<string, HostileChannel>()
  swarm.on('connection', (conn) => {
    conn.on('error', () => {}) // being hung up on is the expected outcome
    const mux = Protomux.from(conn)
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      onopen: () => {
        const key = conn.remotePublicKey.toString('hex')
        const ch: HostileChannel = {
          conn,
          send: (kind, bytes) => messages[MessageType[kind]]?.send(bytes),
          sendType: (type, bytes) => messages[type]?.send(bytes),
          badReplicationHandshake: (discoveryKey) => {
            const replication = mux.createChannel({
              protocol: 'hypercore/alpha',
              id: discoveryKey,
              handshake: replicationHandshake,
            })
            replication?.open({ capability: randomBytes(32) })
          },
          raw: (bytes) => conn.write(bytes),
          closed: new Promise((resolve) => conn.once('close', () => resolve())),
        }
        opened.set(key, ch)
        pending.get(key)?.(ch)
      },
    })
    const messages = Array.from({ length: Math.max(TYPE_SLOTS, MESSAGE_KINDS.length) }, () =>
      channel?.addMessage<Uint8Array>({ encoding: c.raw }),
    )
    channel?.open()
  })
  return {
    swarm,
    keyPair,
    publicKey: keyPair.publicKey,
    connect(target) {
      return new Promise((resolve) => {
        pending.set(target.toString('hex'), resolve)
        swarm.joinPeer(target)
      })
    },
    accept(target) {
      const key = target.toString('hex')
      const ch = opened.get(key)
      return ch ? Promise.resolve(ch) : new Promise((resolve) => pending.set(key, resolve))
    },
  }
}

/** The hostile peer still says hello first, so its later misbehaviour is what gets judged. */
export function helloBytes(): Uint8Array {
  return encodeMessage('hello', { protocol: 1, roles: ['contributor'], projects: [], agent: 'x' })
}

/**
 * A hello whose `projects` array declares 1,048,576 keys inside a 4 KiB frame: a decoder that
 * trusts the count allocates a million slots before finding out the bytes are not there.
 */
export function hugeProjectsHello(): Uint8Array {
  const head = Buffer.concat([
    c.encode(c.uint, FORMAT_VERSION),
    c.encode(c.uint, 1), // protocol
    c.encode(c.uint, 2), // roles: contributor
    c.encode(c.uint, 1_048_576),
  ])
  return Buffer.concat([head, Buffer.alloc(4000)])
}
