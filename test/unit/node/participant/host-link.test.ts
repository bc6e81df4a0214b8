/**
 * The participant's line to its host, on a fake swarm node: only the manifest's host key is heard,
 * only about this project, and nothing is sent before the host is known or after close().
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { isTandemError } from '../../../../core/api/errors.js'
import type { SwarmNode } from '../../../../core/net/swarm-node.js'
import type { Peer } from '../../../../core/net/peer.js'
import { HostLink } from '../../../../core/node/participant/host-link.js'
import type { Ack, RoundOpen, UpdateOffer, WireMessage } from '../../../../core/wire/messages.js'

const PROJECT = Buffer.alloc(32, 7)
const HOST = Buffer.alloc(32, 1)
const STRANGER = Buffer.alloc(32, 2)

class FakeNode extends EventEmitter {
  readonly connected = new Set<string>()
  readonly sent: Array<{ to: string; body: UpdateOffer }> = []
  peer(key: Uint8Array): object | undefined {
    return this.connected.has(Buffer.from(key).toString('hex')) ? {} : undefined
  }
  send(key: Uint8Array, _kind: 'updateOffer', body: UpdateOffer): void {
    this.sent.push({ to: Buffer.from(key).toString('hex'), body })
  }
}

const peer = (key: Buffer) => ({ key }) as unknown as Peer
const roundOpen = (project: Buffer, round: number): WireMessage =>
  ({
    type: 'roundOpen',
    body: { project, round, deadline: 9, innerSteps: 1 } as unknown as RoundOpen,
  }) as WireMessage
const ack = (project: Buffer): WireMessage =>
  ({
    type: 'ack',
    body: { project, round: 0, ref: Buffer.alloc(32), status: 'received', reason: '' } as Ack,
  }) as WireMessage

function rig() {
  const node = new FakeNode()
  const heard = { rounds: [] as number[], acks: 0, connects: 0 }
  const link = new HostLink({
    node: node as unknown as SwarmNode,
    project: PROJECT,
    onRoundOpen: (m) => heard.rounds.push(m.round),
    onAck: () => heard.acks++,
    onConnect: () => heard.connects++,
  })
  return { node, link, heard }
}

describe('participant host link', () => {
  it('hears nothing until the host key is known, then only the host, about this project', () => {
    const { node, link, heard } = rig()
    link.open()
    node.emit('message', peer(HOST), roundOpen(PROJECT, 0))
    assert.deepEqual(heard.rounds, [], 'the host is not known yet')
    link.setHost(HOST)
    node.emit('message', peer(STRANGER), roundOpen(PROJECT, 1))
    node.emit('message', peer(HOST), roundOpen(Buffer.alloc(32, 9), 2))
    node.emit('message', peer(HOST), ack(Buffer.alloc(32, 9)))
    node.emit('message', peer(HOST), roundOpen(PROJECT, 3))
    node.emit('message', peer(HOST), ack(PROJECT))
    assert.deepEqual(heard.rounds, [3])
    assert.equal(heard.acks, 1)
  })

  it('reports the host connecting (first hello or a later one), not other peers', () => {
    const { node, link, heard } = rig()
    link.open()
    link.setHost(HOST)
    node.emit('peer', peer(STRANGER))
    node.emit('peer', peer(HOST))
    node.emit('peer-update', peer(HOST))
    assert.equal(heard.connects, 2)
  })

  it('sends to the host only; after close() it is not ready and hears nothing', () => {
    const { node, link, heard } = rig()
    link.open()
    assert.equal(link.ready(), false)
    assert.throws(
      () => link.send({ round: 4 } as UpdateOffer),
      (err) => isTandemError(err) && err.code === 'PEER_UNKNOWN',
    )
    link.setHost(HOST)
    assert.equal(link.ready(), true)
    assert.equal(link.connected(), false)
    node.connected.add(HOST.toString('hex'))
    assert.equal(link.connected(), true)
    link.send({ round: 4 } as UpdateOffer)
    assert.deepEqual(
      node.sent.map((s) => s.to),
      [HOST.toString('hex')],
    )
    link.close()
    assert.equal(link.ready(), false)
    node.emit('message', peer(HOST), roundOpen(PROJECT, 5))
    assert.deepEqual(heard.rounds, [])
    assert.equal(node.listenerCount('message'), 0)
    assert.equal(node.listenerCount('peer'), 0)
    assert.equal(node.listenerCount('peer-update'), 0)
  })
})
