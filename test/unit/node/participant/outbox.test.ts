/**
 * The offer outbox alone, on a fake link and clock: when an offer goes (again), what an ack or a
 * receipt does to it, and what never happens (re-sending a settled offer or a closed round's).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Contribution } from '../../../../core/ledger/entries.js'
import { Outbox } from '../../../../core/node/participant/outbox.js'
import type { OfferRecord, ParticipantState } from '../../../../core/node/participant/types.js'
import type { Ack, UpdateOffer } from '../../../../core/wire/messages.js'
import { testContribution } from '../../../support/contributions.js'

const PROJECT = Buffer.alloc(32, 7)
const hashOf = (n: number) => Buffer.alloc(32, n)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function offer(round: number): UpdateOffer {
  return {
    project: PROJECT,
    round,
    core: Buffer.alloc(32, 1),
    start: 0,
    length: 2,
    byteLength: 10,
    hash: hashOf(round + 1),
    samples: 8,
  }
}

function rig(opts: { retryMs?: number } = {}) {
  const w = {
    clock: 1000,
    ready: true,
    connected: true,
    failing: false,
    closedRounds: new Set<number>(),
    sent: [] as number[],
    states: [] as Array<[ParticipantState, string]>,
    offers: [] as OfferRecord[],
    warnings: [] as unknown[],
  }
  const outbox = new Outbox({
    link: {
      ready: () => w.ready,
      connected: () => w.connected,
      send: (o) => {
        if (w.failing) throw new Error('channel closed')
        w.sent.push(o.round)
      },
    },
    now: () => w.clock,
    retryMs: opts.retryMs ?? 5000,
    closed: (r) => w.closedRounds.has(r),
    setState: (s, d) => w.states.push([s, d]),
    onOffer: (o) => w.offers.push(o),
    onWarning: (err) => w.warnings.push(err),
  })
  const add = (round: number) => outbox.add(round, hex(hashOf(round + 1)), offer(round))
  const ack = (
    round: number,
    status: Ack['status'],
    reason = '',
    ref = hashOf(round + 1),
  ): Ack => ({
    project: PROJECT,
    round,
    ref,
    status,
    reason,
  })
  return { w, outbox, add, ack }
}

function contribution(hash: string, accepted: boolean, contributor?: string): Contribution {
  return testContribution({ hash, accepted, ...(contributor ? { contributor } : {}) })
}

describe('participant outbox', () => {
  it('sends at once to a connected host and records when; an offline host leaves it waiting', () => {
    const { w, outbox, add } = rig()
    add(0)
    assert.deepEqual(w.sent, [0])
    assert.equal(outbox.get(0)?.sentAt, 1000)
    assert.equal(outbox.get(0)?.firstSentAt, 1000)
    assert.deepEqual(w.states.at(-1), ['waiting-ack', 'round 0: offered to the host'])

    w.connected = false
    add(1)
    assert.deepEqual(w.sent, [0])
    assert.equal(outbox.get(1)?.sentAt, null)
    assert.deepEqual(w.states.at(-1), [
      'host-offline',
      'round 1: update ready, waiting for the host',
    ])
    assert.ok(outbox.pending())
  })

  it('says nothing and sends nothing while the link is not ready (host unknown, or stopped)', () => {
    const { w, outbox, add } = rig()
    w.ready = false
    add(0)
    outbox.resend()
    assert.deepEqual(w.sent, [])
    assert.deepEqual(w.states, [])
    assert.equal(outbox.get(0)?.status, 'sent')
  })

  it('re-sends an unanswered offer only after retryMs when stale, and keeps its first send time', () => {
    const { w, outbox, add } = rig({ retryMs: 5000 })
    add(0)
    w.clock += 4999
    outbox.resend(true)
    assert.deepEqual(w.sent, [0], 'too soon')
    w.clock += 1
    outbox.resend(true)
    assert.deepEqual(w.sent, [0, 0])
    assert.equal(outbox.get(0)?.sentAt, 6000)
    assert.equal(outbox.get(0)?.firstSentAt, 1000)
    outbox.resend() // a reconnect: not only the stale ones
    assert.deepEqual(w.sent, [0, 0, 0])
  })

  it('never re-sends an offer whose round already has a receipt, nor one the host has', () => {
    const { w, outbox, add, ack } = rig()
    add(0)
    add(1)
    w.sent.length = 0
    w.closedRounds.add(0)
    outbox.onAck(ack(1, 'received'))
    outbox.resend()
    assert.deepEqual(w.sent, [])
    assert.equal(outbox.get(1)?.status, 'received')
    assert.deepEqual(w.states.at(-1), ['waiting-receipt', 'round 1: the host has the update'])
  })

  it("a host that could not download the update gets it again after retryMs, still 'sent'", () => {
    const { w, outbox, add, ack } = rig({ retryMs: 100 })
    add(0)
    w.clock += 50
    outbox.onAck(ack(0, 'rejected', 'UPDATE_UNAVAILABLE'))
    assert.equal(outbox.get(0)?.status, 'sent')
    assert.equal(outbox.get(0)?.reason, 'UPDATE_UNAVAILABLE')
    w.clock += 99
    outbox.resend(true)
    assert.deepEqual(w.sent, [0], 'the retry counts from the rejection')
    w.clock += 1
    outbox.resend(true)
    assert.deepEqual(w.sent, [0, 0])
  })

  it('ignores acks for another update, and any ack once the receipt settled the offer', () => {
    const { w, outbox, add, ack } = rig()
    add(0)
    outbox.onAck(ack(0, 'accepted', '', hashOf(99)))
    assert.equal(outbox.get(0)?.status, 'sent')
    outbox.settle(0, [], 'aa'.repeat(32))
    assert.equal(outbox.get(0)?.status, 'not-in-receipt')
    outbox.onAck(ack(0, 'accepted'))
    assert.equal(outbox.get(0)?.status, 'not-in-receipt')
    assert.equal(w.offers.at(-1)?.status, 'not-in-receipt')
  })

  it('a roundOpen for a round it offered in sends it again (the host may have restarted)', () => {
    const { w, outbox, add, ack } = rig()
    add(0)
    outbox.onAck(ack(0, 'received'))
    outbox.onRoundOpen(0)
    assert.equal(outbox.get(0)?.status, 'sent')
    assert.deepEqual(w.sent, [0, 0])
    outbox.onAck(ack(0, 'accepted'))
    outbox.onRoundOpen(0)
    assert.deepEqual(w.sent, [0, 0], 'an accepted offer is settled')
    outbox.onRoundOpen(5)
    assert.deepEqual(w.sent, [0, 0])
  })

  it('the receipt settles the offer: accepted, rejected with its reason, or not in it', () => {
    const me = 'aa'.repeat(32)
    const { outbox, add } = rig()
    add(0)
    add(1)
    add(2)
    const h = (r: number) => hex(hashOf(r + 1))
    outbox.settle(0, [contribution(h(0), true)], me)
    outbox.settle(1, [contribution(h(1), false)], me)
    // Someone else's contribution with our hash does not count.
    outbox.settle(2, [contribution(h(2), true, 'bb'.repeat(32))], me)
    assert.equal(outbox.get(0)?.status, 'accepted')
    assert.equal(outbox.get(1)?.status, 'rejected')
    assert.equal(outbox.get(1)?.reason, 'norm-outlier')
    assert.equal(outbox.get(2)?.status, 'not-in-receipt')
    assert.equal(outbox.pending(), false)
    assert.equal(outbox.firstSentAt(0, h(0)), 1000)
    assert.equal(outbox.firstSentAt(0, h(1)), undefined, 'another update')
  })

  it('a send that fails is a warning and the offer stays unsent, to go again later', () => {
    const { w, outbox, add } = rig()
    w.failing = true
    add(0)
    assert.equal(w.warnings.length, 1)
    assert.equal(outbox.get(0)?.sentAt, null)
    w.failing = false
    outbox.resend(true)
    assert.deepEqual(w.sent, [0])
  })

  it('hands out copies', () => {
    const { outbox, add } = rig()
    add(0)
    outbox.get(0)!.status = 'accepted'
    outbox.list()[0]!.status = 'accepted'
    assert.equal(outbox.get(0)?.status, 'sent')
  })
})
