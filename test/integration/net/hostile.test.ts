/**
 * A hostile peer sends garbage bodies, oversized messages, floods, forged signatures and garbage
 * mux frames. Each offence bans it with the matching code; the process survives; honest peers keep
 * working the whole time.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { Ban } from '../../../core/net/ban-list.js'
import type { TandemNode } from '../../../core/net/node.js'
import { encodeMessage } from '../../../core/wire/decode.js'
import { helloBytes, hostilePeer, type HostileChannel } from '../../support/hostile-peer.js'
import { joinAndMesh, loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'
import { samples } from '../../support/wire-samples.js'

const PROJECT = Buffer.alloc(32, 1)

function bansOf(node: TandemNode): Ban[] {
  const bans: Ban[] = []
  node.on('ban', (ban) => bans.push(ban))
  return bans
}

describe('hostile peers', () => {
  it('are banned with the right code while honest peers keep working', async (t) => {
    const testnet = await loopbackTestnet(t)
    const limits = { messagesPerSecond: 20, burst: 40 }
    const host = testnet.node({ roles: ['host'], limits })
    const honest = testnet.node({ roles: ['contributor'], limits })
    await joinAndMesh([host, honest], PROJECT)
    const bans = bansOf(host)

    let acks = 0
    honest.on('message', (_p, m) => void (m.type === 'ack' && acks++))
    host.on('message', (peer, m) => {
      if (m.type === 'updateOffer') {
        const { project, round, hash } = m.body
        peer.send('ack', { project, round, ref: hash, status: 'received', reason: '' })
      }
    })
    const offer = samples().updateOffer
    const honestRoundTrip = async () => {
      const before = acks
      honest.send(host.key, 'updateOffer', offer)
      await waitUntil(() => acks === before + 1, 'the honest ack')
    }

    const attacks: Array<[string, (ch: HostileChannel) => void]> = [
      ['WIRE_MALFORMED', (ch) => ch.send('updateOffer', randomBytes(100))],
      ['WIRE_TOO_LARGE', (ch) => ch.send('ack', randomBytes(64 * 1024))],
      [
        'WIRE_RATE_LIMIT',
        (ch) => {
          const bytes = encodeMessage('updateOffer', offer)
          for (let i = 0; i < 500; i++) ch.send('updateOffer', bytes)
        },
      ],
      [
        'WIRE_BAD_SIGNATURE',
        (ch) => {
          const forged = { ...samples().announce, name: 'not what the host signed' }
          ch.send('announce', encodeMessage('announce', forged))
        },
      ],
      [
        'WIRE_UNEXPECTED',
        (ch) => ch.send('roundOpen', encodeMessage('roundOpen', samples().roundOpen)),
      ],
    ]
    for (const [code, attack] of attacks) {
      const hostile = hostilePeer(t, testnet.bootstrap)
      const ch = await hostile.connect(host.key)
      if (code !== 'WIRE_UNEXPECTED') ch.send('hello', helloBytes())
      attack(ch)
      await waitUntil(() => bans.some((b) => b.code === code), `a ${code} ban`)
      await ch.closed
      assert.ok(host.isBanned(hostile.publicKey))
      await honestRoundTrip()
    }

    // Garbage below the channel: random mux frames, then a fixed malformed one (a control frame for
    // session 0 with a truncated body) so the outcome never depends on what the random bytes were.
    // Protomux ignores frames for channels that do not exist but fails the whole stream on a
    // malformed frame ("Out of bounds"); the node reads that as the peer's fault and bans it.
    const hostile = hostilePeer(t, testnet.bootstrap)
    const ch = await hostile.connect(host.key)
    ch.send('hello', helloBytes())
    for (let i = 0; i < 200; i++) ch.raw(randomBytes(1 + (i % 50)))
    ch.raw(Buffer.from([0, 1, 0]))
    await waitUntil(() => host.isBanned(hostile.publicKey), 'the mux-garbage ban')
    await ch.closed
    const muxBan = host.status().bans.find((b) => b.key === hostile.publicKey.toString('hex'))
    assert.equal(muxBan?.code, 'WIRE_MALFORMED')
    assert.equal(host.peer(hostile.publicKey), undefined)
    await honestRoundTrip()

    const status = host.status()
    assert.equal(status.counters.bans, attacks.length + 1)
    assert.ok(status.counters.invalid >= attacks.length + 1)
    assert.equal(
      status.peers.find((p) => p.key === honest.key.toString('hex'))?.counters.invalid,
      0,
    )
    assert.equal(honest.status().counters.invalid, 0)
  })

  it('refuses a banned peer that comes back', async (t) => {
    const testnet = await loopbackTestnet(t)
    const host = testnet.node({ roles: ['host'] })
    host.joinProject(PROJECT)
    // Dialling a key finds it on the DHT only once its owner has announced; dialled earlier, the
    // dial fails (PEER_NOT_FOUND) and Hyperswarm retries only after its 5-6.5 s backoff.
    await host.swarm.flush()
    const hostile = hostilePeer(t, testnet.bootstrap)
    const ch = await hostile.connect(host.key)
    ch.send('hello', helloBytes())
    ch.send('hello', randomBytes(10))
    await ch.closed
    assert.ok(host.isBanned(hostile.publicKey))
    const refusedBefore = host.counters.refused
    await hostile.swarm.destroy()
    // Same key, fresh swarm: the firewall turns it away during the handshake.
    const again = hostilePeer(t, testnet.bootstrap, hostile.keyPair)
    again.swarm.joinPeer(host.key)
    await waitUntil(() => host.counters.refused > refusedBefore, 'the refusal')

    assert.equal(host.peers().length, 0)
  })
})
