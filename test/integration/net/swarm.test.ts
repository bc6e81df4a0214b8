/** Nodes on a loopback testnet find each other by topic and exchange every message type. */
import Corestore from 'corestore'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Peer } from '../../../core/net/peer.js'
import type { SwarmNode } from '../../../core/net/swarm-node.js'
import { MESSAGE_KINDS, type WireMessage } from '../../../core/wire/messages.js'
import { fullMesh, joinAndMesh, loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'
import { samples } from '../../support/wire-samples.js'

const PROJECT = Buffer.alloc(32, 1)

function inbox(node: SwarmNode): Array<[Peer, WireMessage]> {
  const got: Array<[Peer, WireMessage]> = []
  node.on('message', (peer, message) => got.push([peer, message]))
  return got
}

describe('swarm', () => {
  it('two nodes find each other by project topic and exchange every message type', async (t) => {
    const testnet = await loopbackTestnet(t)
    const a = testnet.node({ roles: ['host'], agent: 'host/1' })
    const b = testnet.node({ roles: ['contributor'] })
    const [aInbox, bInbox] = [inbox(a), inbox(b)]
    // Joined at the same moment on purpose: the re-lookup must make them meet anyway.
    await joinAndMesh([a, b], PROJECT)
    assert.equal(a.state, 'online')

    const bAtA = a.peer(b.key)
    assert.ok(bAtA)
    assert.deepEqual(bAtA.hello?.roles, ['contributor'])
    assert.equal(b.peer(a.key)?.hello?.agent, 'host/1')

    const s = samples()
    for (const kind of MESSAGE_KINDS.filter((k) => k !== 'hello')) {
      a.send(b.key, kind, s[kind] as never)
      b.send(a.key, kind, s[kind] as never)
    }
    const others = MESSAGE_KINDS.length - 1
    await waitUntil(() => aInbox.length === others && bInbox.length === others, 'all messages')
    assert.deepEqual(
      bInbox.map(([, m]) => m.type),
      MESSAGE_KINDS.filter((k) => k !== 'hello'),
    )
    const offer = bInbox.find(([, m]) => m.type === 'updateOffer')?.[1]
    assert.equal(offer?.type === 'updateOffer' && offer.body.samples, s.updateOffer.samples)

    const status = a.status()
    assert.equal(status.peers.length, 1)
    assert.equal(status.peers[0]?.counters.rx, 1 + others) // hello + the rest
    assert.equal(status.counters.tx, status.peers[0]?.counters.tx)
    assert.equal(status.counters.invalid, 0)
    assert.equal(status.counters.bans, 0)
  })

  it('five nodes meet on the discovery and project topics; host and contributors talk', async (t) => {
    const testnet = await loopbackTestnet(t)
    const host = testnet.node({ roles: ['host'] })
    const contributors = Array.from({ length: 4 }, () => testnet.node({ roles: ['contributor'] }))
    const all = [host, ...contributors]
    for (const n of all) {
      n.joinDiscovery()
      n.joinProject(PROJECT)
    }
    await fullMesh(all, PROJECT)

    const hostInbox = inbox(host)
    const inboxes = contributors.map(inbox)
    const s = samples()
    assert.equal(host.broadcast('announce', s.announce, PROJECT), 4)
    assert.equal(host.broadcast('roundOpen', s.roundOpen, PROJECT), 4)
    await waitUntil(() => inboxes.every((i) => i.length === 2), 'announce and round open')

    // Each contributor offers its update; the host acknowledges each.
    host.on('message', (peer, m) => {
      if (m.type !== 'updateOffer') return
      peer.send('ack', {
        project: m.body.project,
        round: m.body.round,
        ref: m.body.hash,
        status: 'received',
        reason: '',
      })
    })
    contributors.forEach((c, i) =>
      c.send(host.key, 'updateOffer', { ...s.updateOffer, hash: Buffer.alloc(32, 10 + i) }),
    )
    await waitUntil(() => inboxes.every((i) => i.length === 3), 'every ack')
    inboxes.forEach((got, i) => {
      const ack = got[2]?.[1]
      assert.equal(ack?.type, 'ack')
      assert.deepEqual(ack?.type === 'ack' && ack.body.ref, Buffer.alloc(32, 10 + i))
    })
    assert.equal(hostInbox.length, 4)
    assert.ok(all.every((n) => n.status().counters.invalid === 0))
  })

  it('corestore replication and the tandem channel share one connection', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-swarm-'))
    const stores = [new Corestore(join(dir, 'a')), new Corestore(join(dir, 'b'))]
    t.after(async () => {
      await Promise.all(stores.map((s) => s.close()))
      await rm(dir, { recursive: true, force: true })
    })
    const testnet = await loopbackTestnet(t)
    const [a, b] = stores.map((store) => testnet.node({ corestore: store })) as [
      SwarmNode,
      SwarmNode,
    ]

    const writer = stores[0]!.get({ name: 'updates' })
    await writer.ready()
    await writer.append(Buffer.from('delta for round 4'))

    await joinAndMesh([a, b], PROJECT)
    const bInbox = inbox(b)
    a.send(b.key, 'updateOffer', {
      ...samples().updateOffer,
      core: writer.key!,
      start: 0,
      length: 1,
      byteLength: 17,
    })
    await waitUntil(() => bInbox.length === 1, 'the offer')
    const offer = bInbox[0]![1]
    assert.equal(offer.type, 'updateOffer')
    if (offer.type !== 'updateOffer') return
    const reader = stores[1]!.get({ key: Buffer.from(offer.body.core) })
    await reader.ready()
    const block = await reader.get(offer.body.start)
    assert.equal(block?.toString(), 'delta for round 4')
    assert.equal(a.swarm.connections.size, 1, 'one connection carries both protocols')
  })
})
