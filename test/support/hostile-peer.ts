/**
 * A peer that breaks the protocol on purpose. It speaks raw protomux on the `tandem/1` channel, so
 * it can send bytes no honest encoder would produce: garbage bodies, oversized frames, floods,
 * forged signatures, and garbage mux frames under the channel.
 */
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import type { TestContext } from 'node:test'
import { createSwarm } from '../../core/net/swarm.js'
import { encodeMessage } from '../../core/wire/decode.js'
import { MESSAGE_KINDS, MessageType, PROTOCOL, type MessageKind } from '../../core/wire/messages.js'

export interface HostileChannel {
  conn: Hyperswarm.Connection
  send(kind: MessageKind, bytes: Uint8Array): void
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
          raw: (bytes) => conn.write(bytes),
          closed: new Promise((resolve) => conn.once('close', () => resolve())),
        }
        opened.set(key, ch)
        pending.get(key)?.(ch)
      },
    })
    const messages = MESSAGE_KINDS.map(() => channel?.addMessage<Uint8Array>({ encoding: c.raw }))
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
