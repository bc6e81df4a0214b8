/**
 * Limits and recovery on a live loopback swarm: bytes in flight through async handlers, handler
 * errors, the peer-count limit, a ban that runs out, and reconnecting after a dropped connection.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TandemError } from '../../../core/api/errors.js'
import type { Ban } from '../../../core/net/ban-list.js'
import { encodeMessage } from '../../../core/wire/decode.js'
import { fullMesh, joinAndMesh, loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'
import { samples } from '../../support/wire-samples.js'

const PROJECT = Buffer.alloc(32, 1)

describe('limits', () => {
  it('bytes whose async handling has not finished are capped: WIRE_OVERLOAD', async (t) => {
    const testnet = await loopbackTestnet(t)
    const offer = samples().updateOffer
    const size = encodeMessage('updateOffer', offer).byteLength
    // Room for 5 offers in flight; the 6th breaks the limit.
    const host = testnet.node({ limits: { maxInboundInFlight: 5 * size } })
    const sender = testnet.node()
    await joinAndMesh([host, sender], PROJECT)
    const bans: Ban[] = []
    host.on('ban', (ban) => bans.push(ban))

    const release: Array<() => void> = []
    let handled = 0
    host.on('message', async () => {
      await new Promise<void>((resolve) => release.push(resolve))
      handled++
    })
    for (let i = 0; i < 5; i++) sender.send(host.key, 'updateOffer', offer)
    await waitUntil(() => release.length === 5, 'five offers in their handlers')
    // Handlers that finish free their bytes: two more fit after two are released.
    release.splice(0, 2).forEach((done) => done())
    await waitUntil(() => handled === 2, 'two handlers done')
    for (let i = 0; i < 2; i++) sender.send(host.key, 'updateOffer', offer)
    await waitUntil(() => release.length === 5, 'two more in their handlers')
    assert.equal(bans.length, 0)

    sender.send(host.key, 'updateOffer', offer)
    await waitUntil(() => bans.length === 1, 'the overload ban')
    assert.equal(bans[0]?.code, 'WIRE_OVERLOAD')
    assert.equal(bans[0]?.key, sender.key.toString('hex'))
    release.forEach((done) => done())
  })

  it('errors thrown by our own handlers are counted, and the peer is not blamed', async (t) => {
    const testnet = await loopbackTestnet(t)
    const host = testnet.node()
    const sender = testnet.node()
    await joinAndMesh([host, sender], PROJECT)
    const warnings: unknown[] = []
    host.on('warning', (err) => warnings.push(err))
    let acks = 0
    host.on('message', (_peer, m) => {
      if (m.type === 'roundOpen') throw new Error('sync bug')
    })
    host.on('message', async (_peer, m) => {
      if (m.type === 'updateOffer') throw new TypeError('async bug')
      if (m.type === 'ack') acks++
    })

    sender.send(host.key, 'roundOpen', samples().roundOpen)
    sender.send(host.key, 'updateOffer', samples().updateOffer)
    await waitUntil(() => host.counters.handlerErrors === 2, 'two handler errors')
    assert.equal(warnings.length, 2)
    sender.send(host.key, 'ack', samples().ack)
    await waitUntil(() => acks === 1, 'the next message still handled')
    assert.equal(host.counters.bans, 0)
    assert.equal(host.counters.invalid, 0)
    assert.ok(host.peer(sender.key))
  })

  it('a handler rejecting the message with a WIRE_* error bans the peer', async (t) => {
    const testnet = await loopbackTestnet(t)
    const host = testnet.node()
    const sender = testnet.node()
    await joinAndMesh([host, sender], PROJECT)
    host.on('message', async () => {
      throw new TandemError('WIRE_INVALID', 'offer for a round that is closed')
    })
    sender.send(host.key, 'updateOffer', samples().updateOffer)
    await waitUntil(() => host.isBanned(sender.key), 'the ban')
    assert.equal(host.status().bans[0]?.code, 'WIRE_INVALID')
    assert.equal(host.counters.handlerErrors, 0)
  })

  it('refuses connections beyond maxPeers', async (t) => {
    const testnet = await loopbackTestnet(t)
    const host = testnet.node({ maxPeers: 2 })
    const others = Array.from({ length: 4 }, () => testnet.node())
    let most = 0
    host.on('peer', () => (most = Math.max(most, host.peers().length)))
    for (const n of [host, ...others]) n.joinProject(PROJECT)
    await waitUntil(
      () => host.peers().length === 2 && host.counters.refused > 0,
      'two peers and a refusal',
    )
    assert.equal(most, 2)
    assert.ok(host.swarm.connections.size <= 2)
    // The others still meet each other: the limit is the host's alone.
    await fullMesh(others, PROJECT)
  })
})

describe('recovery', () => {
  it('a banned peer connects again once its ban has run out', async (t) => {
    const testnet = await loopbackTestnet(t)
    const banMs = 500
    const host = testnet.node({ banMs })
    const peer = testnet.node()
    await joinAndMesh([host, peer], PROJECT)

    const bannedAt = Date.now()
    host.ban(peer.key, new TandemError('WIRE_INVALID', 'test ban'))
    assert.ok(host.isBanned(peer.key))
    await waitUntil(() => host.peers().length === 0 && peer.peers().length === 0, 'the hang-up')
    await fullMesh([host, peer], PROJECT)
    assert.ok(Date.now() - bannedAt >= banMs, 'not before the ban ended')
    assert.equal(host.isBanned(peer.key), false)
    assert.deepEqual(host.status().bans, [])
  })

  it('reconnects after a dropped connection', async (t) => {
    const testnet = await loopbackTestnet(t)
    const a = testnet.node()
    const b = testnet.node()
    await joinAndMesh([a, b], PROJECT)
    const left: string[] = []
    a.on('peer-leave', (p) => left.push(p.hexKey))

    for (const conn of a.swarm.connections) conn.destroy()
    await waitUntil(() => left.length === 1, 'the drop')
    await fullMesh([a, b], PROJECT)
    let got = 0
    b.on('message', () => got++)
    a.send(b.key, 'ack', samples().ack)
    await waitUntil(() => got === 1, 'a message over the new connection')
    assert.equal(a.counters.bans + b.counters.bans, 0)
  })
})
