/**
 * The host's handling of hostile and unlucky offers, with hand-driven contributors (no training):
 * retransmissions, a second update from one contributor, a copied update, an offer naming someone
 * else's core, a replayed update, a late offer and offers for a closed round. Each ends in the
 * receipt (or the ack) with the documented reason, and nothing but honest updates earns credit.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { parameterCount } from '../../../core/host/round.js'
import type { Contribution } from '../../../core/ledger/entries.js'
import { verifyFresh } from '../../support/verifier.js'
import {
  rawContributor,
  smallUpdate,
  startTestHost,
  type RawContributor,
  type TestHost,
} from '../../support/host-fixtures.js'
import { fullMesh, loopbackTestnet, type TestNetwork } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('project host: offers', () => {
  it('retransmission, duplicates, forged core, replay, late and closed-round offers', async (t) => {
    const net = await loopbackTestnet(t)
    let skew = 0
    const h = await startTestHost(t, net, {
      recipe: { roundDeadlineSec: 5, minUpdates: 1, maxUpdates: 8 },
      host: { now: () => Date.now() + skew },
    })
    const closed = new Map<number, Contribution[]>()
    h.host.on('round-closed', (e) => closed.set(e.round, e.contributions))
    const opened: number[] = []
    h.host.on('round-open', (e) => opened.push(e.round))
    const [a, b, c, d] = await meetThenStart(t, net, h, 4)
    const n = parameterCount(h.ledger.manifest)
    const ckpt = (r: number) => h.ledger.state.rounds[r]!.checkpoint.contentHash

    // Round 0.
    const bytesA = smallUpdate(n, 1)
    const offerA = await a!.publish(0, bytesA, ckpt(0))
    a!.offer(offerA)
    await a!.ack(0, hex(offerA.hash), 'received')
    a!.offer(offerA) // a retransmission: acknowledged again, recorded once
    const again = await a!.publish(0, bytesA, ckpt(0)) // the same Δ at another block: 2nd update
    a!.offer(again)
    const copy = await b!.publish(0, bytesA, ckpt(0)) // B copies A's Δ into its own core
    b!.offer(copy)
    await b!.ack(0, hex(copy.hash), 'received') // arrival order is the receipt's order
    c!.offer({ ...offerA }) // C offers A's core as its own
    const offerD = await d!.publish(0, smallUpdate(n, 4), ckpt(0))
    d!.offer(offerD)
    await d!.ack(0, hex(offerD.hash), 'received')
    const finalA = await a!.ack(0, hex(offerA.hash), 'accepted')
    assert.equal(finalA.reason, '')

    const r0 = closed.get(0)!
    assert.deepEqual(
      r0.map((x) => [x.contributor, x.updateIndex, x.accepted, x.reason ?? null]),
      [
        [a!.hex, offerA.start, true, null],
        [a!.hex, again.start, false, 'duplicate'],
        [b!.hex, copy.start, false, 'duplicate'],
        [c!.hex, offerA.start, false, 'bad-signature'],
        [d!.hex, offerD.start, true, null],
      ],
    )
    assert.ok(r0[0]!.credits > 0 && r0[4]!.credits > 0)
    assert.ok(r0.slice(1, 4).every((x) => x.credits === 0))
    const rejectedCopy = await b!.ack(0, hex(copy.hash), 'rejected')
    assert.equal(rejectedCopy.reason, 'DUPLICATE')
    assert.equal((await c!.ack(0, hex(offerA.hash), 'rejected')).reason, 'BAD_SIGNATURE')

    // Round 1: a replay, an honest update, an offer for the closed round, then a late one.
    await waitUntil(() => opened.includes(1), 'round 1 to open', 20_000)
    const replay = await a!.publish(1, bytesA, ckpt(1)) // A's round-0 Δ, relabelled round 1
    a!.offer(replay)
    const offerD1 = await d!.publish(1, smallUpdate(n, 5), ckpt(1))
    d!.offer(offerD1)
    await d!.ack(1, hex(offerD1.hash), 'received')
    b!.offer(copy) // round 0 is closed: the host answers with the receipt's verdict
    assert.equal((await b!.ack(0, hex(copy.hash), 'rejected')).reason, 'DUPLICATE')
    const stray = await c!.publish(0, smallUpdate(n, 6), ckpt(0)) // never offered in round 0
    c!.offer(stray)
    assert.equal((await c!.ack(0, hex(stray.hash), 'rejected')).reason, 'ROUND_CLOSED')

    skew = 6_000 // the host's clock is now past round 1's deadline; the round is still open
    const late = await c!.publish(1, smallUpdate(n, 7), ckpt(1))
    c!.offer(late)
    await c!.ack(1, hex(late.hash), 'received')
    assert.equal((await c!.ack(1, hex(late.hash), 'rejected')).reason, 'LATE')
    const r1 = closed.get(1)!
    assert.deepEqual(
      r1.map((x) => [x.contributor, x.accepted, x.reason ?? null]),
      [
        [a!.hex, false, 'replayed'],
        [d!.hex, true, null],
        [c!.hex, false, 'late'],
      ],
    )
    // The stale offer for round 0 changed nothing there.
    const receipts = h.ledger.state.rounds.flatMap((r) => (r.receipt ? [r.receipt] : []))
    assert.equal(receipts.length, 2)
    assert.equal(receipts[0]!.contributions.length, 5)
  })
})

describe('project host: copies offered first that never arrive', () => {
  it('the original, first recorded as duplicate, is fetched after all; verify agrees', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      recipe: { roundDeadlineSec: 5, minUpdates: 1, maxUpdates: 8 },
      host: { rounds: 1, fetchTimeoutMs: 3000 },
    })
    const offers: string[] = []
    h.host.on('offer', (e) =>
      offers.push(`${e.contributor.slice(0, 4)}:${e.status}:${e.reason ?? ''}`),
    )
    const [a, b, ...copiers] = await meetThenStart(t, net, h, 5)
    const n = parameterCount(h.ledger.manifest)
    const ckpt = h.ledger.state.rounds[0]!.checkpoint.contentHash
    const original = await b!.publish(0, smallUpdate(n, 3), ckpt)
    // A and three others claim B's update hash at blocks of their own cores that they never
    // write. A's download waits past the deadline and fails; the others' and B's offers of that
    // hash look like copies.
    const ghost = (x: typeof a) => ({ ...original, core: x!.core.key!, start: x!.core.length + 5 })
    for (const x of [a!, ...copiers]) {
      x.offer(ghost(x))
      await x.ack(0, hex(original.hash), 'received')
    }
    b!.offer(original)
    await b!.ack(0, hex(original.hash), 'received')
    for (const x of [...copiers, b!])
      assert.ok(offers.includes(`${x.hex.slice(0, 4)}:recorded:DUPLICATE`), offers.join(' '))
    assert.equal((await a!.ack(0, hex(original.hash), 'rejected')).reason, 'UPDATE_UNAVAILABLE')
    // Closing downloads the copies and B's at once (3 s timeout each), not one timeout after
    // another (9 s).
    const closing = Date.now()
    await h.host.finished()
    const ms = Date.now() - closing
    assert.ok(ms < 6500, `closing took ${ms} ms: the copies were downloaded one after another`)
    for (const x of copiers)
      assert.equal((await x.ack(0, hex(original.hash), 'rejected')).reason, 'UPDATE_UNAVAILABLE')
    const receipt = h.ledger.state.rounds[0]!.receipt!
    assert.deepEqual(
      receipt.contributions.map((c) => [c.contributor, c.accepted, c.reason ?? null]),
      [[b!.hex, true, null]],
    )
    assert.ok(receipt.contributions[0]!.credits > 0)

    // A fresh verifier replays the round to the same verdicts.
    const report = await verifyFresh(t, h, [b!])
    assert.deepEqual(
      report.rounds.flatMap((r) => r.problems.map((p) => p.code)),
      [],
    )
    assert.ok(report.ok)
  })
})

describe('project host: entry cap', () => {
  it('a flood of offers that need no download stops at the per-round cap; the round still closes', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      recipe: { roundDeadlineSec: 5, minUpdates: 1, maxUpdates: 8 },
      host: { rounds: 1, maxRoundEntries: 3, maxOffersPerPeer: 20 },
    })
    const [a, c] = await meetThenStart(t, net, h, 2)
    const n = parameterCount(h.ledger.manifest)
    const ckpt = h.ledger.state.rounds[0]!.checkpoint.contentHash
    const offerA = await a!.publish(0, smallUpdate(n, 1), ckpt)
    a!.offer(offerA)
    await a!.ack(0, hex(offerA.hash), 'received')
    // Offers naming A's core from C (bad-signature, recorded without a download), each new.
    const forged = [1, 2, 3, 4].map((i) => ({ ...offerA, hash: Buffer.alloc(32, i) }))
    for (const f of forged) c!.offer(f)
    for (const f of forged.slice(0, 2)) await c!.ack(0, hex(f.hash), 'received')
    for (const f of forged.slice(2))
      assert.equal((await c!.ack(0, hex(f.hash), 'rejected')).reason, 'ROUND_FULL')
    await h.host.finished()
    const receipt = h.ledger.state.rounds[0]!.receipt!
    assert.deepEqual(
      receipt.contributions.map((x) => [x.contributor, x.accepted, x.reason ?? null]),
      [
        [a!.hex, true, null],
        [c!.hex, false, 'bad-signature'],
        [c!.hex, false, 'bad-signature'],
      ],
    )
  })
})

describe('project host: deadline extension', () => {
  it('fewer than minUpdates at the deadline: extended once, then closed with what arrived', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      recipe: { roundDeadlineSec: 5, minUpdates: 3, maxUpdates: 8 },
      host: { rounds: 1 },
    })
    const opens: Array<{ deadline: number; extended: boolean }> = []
    h.host.on('round-open', (e) => opens.push(e))
    const [a, b] = await meetThenStart(t, net, h, 2)
    const roundOpens: number[] = []
    b!.node.on(
      'message',
      (_p, m) => void (m.type === 'roundOpen' && roundOpens.push(m.body.deadline)),
    )
    const n = parameterCount(h.ledger.manifest)
    const ckpt = h.ledger.state.rounds[0]!.checkpoint.contentHash
    const first = await a!.publish(0, smallUpdate(n, 1), ckpt)
    a!.offer(first)
    await waitUntil(() => opens.length === 2, 'the extension', 15_000)
    assert.equal(opens[1]!.extended, true)
    assert.ok(opens[1]!.deadline >= opens[0]!.deadline + 5000)
    await waitUntil(
      () => roundOpens.includes(opens[1]!.deadline),
      'roundOpen with the new deadline',
      20_000,
    )
    // After the original deadline, inside the extension: on time.
    const second = await b!.publish(0, smallUpdate(n, 2), ckpt)
    b!.offer(second)
    await h.host.finished()
    const receipt = h.ledger.state.rounds[0]!.receipt!
    assert.deepEqual(
      receipt.contributions.map((c) => [c.contributor, c.accepted]),
      [
        [a!.hex, true],
        [b!.hex, true],
      ],
    )
    assert.ok(receipt.closedAt >= opens[1]!.deadline)
    // The receipt records the extended deadline and B's arrival after the first one: on time.
    assert.equal(receipt.deadline, opens[1]!.deadline)
    assert.ok(receipt.contributions[1]!.receivedAt! > opens[0]!.deadline)
    assert.ok(receipt.contributions[1]!.receivedAt! <= receipt.deadline!)
  })
})

/**
 * The contributors meet the host before it starts, then round 0 opens: its deadline (5 s) runs
 * only while offers can be sent, however slowly the machine set the peers up.
 */
async function meetThenStart(
  t: TestContext,
  net: TestNetwork,
  h: TestHost,
  count: number,
): Promise<RawContributor[]> {
  h.node.joinProject(Buffer.from(h.project, 'hex'))
  const peers = await Promise.all(
    Array.from({ length: count }, () => rawContributor(t, net, h.project)),
  )
  await fullMesh([h.node, ...peers.map((p) => p.node)], h.ledger.core.key!)
  const opened = new Promise((resolve) => h.host.once('round-open', resolve))
  await h.host.start()
  await opened
  return peers
}
