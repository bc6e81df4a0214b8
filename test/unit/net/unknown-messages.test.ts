/**
 * Messages of type ids the `tandem/1` channel does not define: protomux would drop them unseen; the
 * control channel counts them, rate limits them, and past a few reports a WIRE_UNEXPECTED violation.
 * Runs the installed protomux over an in-memory message-framed stream pair.
 */
import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { describe, it, type TestContext } from 'node:test'
import c from 'compact-encoding'
import Protomux from 'protomux'
import type { TandemError } from '../../../core/api/errors.js'
import { ControlChannel } from '../../../core/net/control-channel.js'
import { wireCounters } from '../../../core/net/counters.js'
import { DEFAULT_LIMITS } from '../../../core/net/limits.js'
import { watchUnknownMessages } from '../../../core/net/unknown-messages.js'
import { encodeMessage } from '../../../core/wire/decode.js'
import { MESSAGE_KINDS, PROTOCOL } from '../../../core/wire/messages.js'
import { waitUntil } from '../../support/wait.js'

/** Two streams where every write arrives as one chunk on the other side (like a secret stream). */
function framedPair(t: TestContext): [Duplex, Duplex] {
  const ends: Duplex[] = []
  const end = (other: () => Duplex) =>
    new Duplex({
      objectMode: true,
      read() {},
      write(chunk, _enc, cb) {
        other().push(chunk)
        cb()
      },
    })
  ends.push(
    end(() => ends[1]!),
    end(() => ends[0]!),
  )
  t.after(() => ends.forEach((s) => s.destroy()))
  return [ends[0]!, ends[1]!]
}

/** The remote end: a raw `tandem/1` channel that can also send type ids we never defined. */
function rawPeer(stream: Duplex, extraTypes: number) {
  const channel = Protomux.from(stream).createChannel({ protocol: PROTOCOL })
  assert.ok(channel)
  const messages = Array.from({ length: MESSAGE_KINDS.length + extraTypes }, () =>
    channel.addMessage<Uint8Array>({ encoding: c.raw }),
  )
  channel.open()
  return { channel, messages }
}

function controlChannel(stream: Duplex, limits = {}) {
  const counters = wireCounters()
  const violations: TandemError[] = []
  let opened = false
  const channel = new ControlChannel(stream, { ...DEFAULT_LIMITS, ...limits }, [counters], {
    onopen: () => void (opened = true),
    onmessage: () => {},
    onviolation: (err) => violations.push(err),
    onhandlerError: (err) => assert.fail(String(err)),
    onclose: () => {},
  })
  return { channel, counters, violations, opened: () => opened }
}

describe('unknown message types', () => {
  it('the protomux hook sees unregistered ids and leaves registered ones alone', async (t) => {
    const [a, b] = framedPair(t)
    const seen: number[] = []
    const got: string[] = []
    const ours = Protomux.from(a).createChannel({ protocol: 'x' })
    assert.ok(ours)
    ours.addMessage<string>({ encoding: c.string, onmessage: (m) => void got.push(m) })
    assert.equal(
      watchUnknownMessages(ours, (type) => seen.push(type)),
      true,
    )
    ours.open()
    const theirs = Protomux.from(b).createChannel({ protocol: 'x' })
    assert.ok(theirs)
    const sends = Array.from({ length: 8 }, () => theirs.addMessage<string>({ encoding: c.string }))
    theirs.open()
    await theirs.fullyOpened()
    sends[0]!.send('hi')
    sends[7]!.send('?')
    sends[3]!.send('?')
    await waitUntil(() => seen.length === 2 && got.length === 1, 'both messages')
    assert.deepEqual(seen, [7, 3])
    assert.deepEqual(got, ['hi'])
  })

  it('a burst of 5,000 messages of an undefined type is one WIRE_UNEXPECTED violation', async (t) => {
    const [a, b] = framedPair(t)
    const node = controlChannel(a)
    const peer = rawPeer(b, 2)
    await waitUntil(node.opened, 'the channel')
    peer.messages[0]!.send(
      encodeMessage('hello', { protocol: 1, roles: [], projects: [], agent: 'x' }),
    )
    for (let i = 0; i < 5000; i++) peer.messages[MESSAGE_KINDS.length + 1]!.send(Buffer.alloc(3))
    await waitUntil(() => node.violations.length > 0, 'the violation')
    assert.equal(node.violations.length, 1)
    assert.equal(node.violations[0]?.code, 'WIRE_UNEXPECTED')
    assert.match(node.violations[0]?.message ?? '', new RegExp(`type ${MESSAGE_KINDS.length + 1}`))
    assert.equal(node.counters.unknown, DEFAULT_LIMITS.maxUnknownMessages + 1)
    assert.equal(node.counters.invalid, 1)
  })

  it('a few unknown messages are tolerated and counted; a flood of them hits the rate limit', async (t) => {
    const [a, b] = framedPair(t)
    const node = controlChannel(a, { maxUnknownMessages: 1000, burst: 10, messagesPerSecond: 1 })
    const peer = rawPeer(b, 1)
    await waitUntil(node.opened, 'the channel')
    for (let i = 0; i < 3; i++) peer.messages[MESSAGE_KINDS.length]!.send(Buffer.alloc(1))
    await waitUntil(() => node.counters.unknown === 3, 'three unknown messages')
    assert.equal(node.violations.length, 0)
    for (let i = 0; i < 20; i++) peer.messages[MESSAGE_KINDS.length]!.send(Buffer.alloc(1))
    await waitUntil(() => node.violations.length > 0, 'the violation')
    assert.equal(node.violations[0]?.code, 'WIRE_RATE_LIMIT')
  })
})
