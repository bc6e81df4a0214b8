/**
 * Bans cost bounded memory whatever the number of identities: one timer at most, a capped table
 * that evicts the ban ending soonest. Runs on an injected clock and timer, so no waiting.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BanList, type Ban } from '../../../core/net/ban-list.js'

/** A clock and timer queue the test advances by hand. */
function fakeTime() {
  let now = 0
  let nextId = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      timers.set(++nextId, { at: now + ms, fn })
      return nextId
    },
    clearTimer: (id: unknown) => void timers.delete(id as number),
    pending: () => timers.size,
    advance(ms: number) {
      now += ms
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now || !timers.has(id)) continue
        timers.delete(id)
        t.fn()
      }
    },
  }
}

const key = (n: number) => {
  const k = Buffer.alloc(32)
  k.writeUInt32BE(n)
  return k
}

describe('ban list', () => {
  it('keeps one timer however many bans, and ends each on time', () => {
    const time = fakeTime()
    const ended: Ban[] = []
    const bans = new BanList({ ...time, onEnd: (b) => ended.push(b) })
    for (let i = 0; i < 1000; i++) bans.add(key(i), 10_000 + i, 'WIRE_INVALID')
    assert.equal(time.pending(), 1)
    assert.equal(bans.size, 1000)
    assert.ok(bans.has(key(0)))

    time.advance(10_000)
    assert.deepEqual(
      ended.map((b) => b.key),
      [key(0).toString('hex')],
    )
    assert.equal(bans.has(key(0)), false)
    assert.ok(bans.has(key(1)))
    assert.equal(time.pending(), 1)

    time.advance(1000)
    assert.equal(ended.length, 1000)
    assert.equal(bans.size, 0)
    assert.equal(time.pending(), 0)
    assert.deepEqual(bans.active(), [])
  })

  it('a sooner ban re-arms the single timer earlier', () => {
    const time = fakeTime()
    const ended: string[] = []
    const bans = new BanList({ ...time, onEnd: (b) => ended.push(b.code) })
    bans.add(key(1), 60_000, 'LATE')
    bans.add(key(2), 1000, 'SOON')
    assert.equal(time.pending(), 1)
    time.advance(1000)
    assert.deepEqual(ended, ['SOON'])
    assert.equal(time.pending(), 1)
    time.advance(59_000)
    assert.deepEqual(ended, ['SOON', 'LATE'])
  })

  it('caps the table: a full list evicts the ban that would end soonest', () => {
    const time = fakeTime()
    const ended: Array<[string, boolean]> = []
    const bans = new BanList({
      ...time,
      maxBans: 3,
      onEnd: (b, evicted) => ended.push([b.code, evicted]),
    })
    bans.add(key(1), 5000, 'A')
    bans.add(key(2), 1000, 'B') // ends soonest
    bans.add(key(3), 9000, 'C')
    bans.add(key(4), 7000, 'D')
    assert.equal(bans.size, 3)
    assert.deepEqual(ended, [['B', true]])
    assert.equal(bans.has(key(2)), false)
    for (let i = 5; i < 10_000; i++) bans.add(key(i), 20_000, 'FLOOD')
    assert.equal(bans.size, 3)
    assert.equal(time.pending(), 1)
  })

  it('a renewed ban replaces the old one instead of taking a second slot', () => {
    const time = fakeTime()
    const bans = new BanList({ ...time, maxBans: 2 })
    bans.add(key(1), 1000, 'A')
    bans.add(key(1), 5000, 'B')
    assert.equal(bans.size, 1)
    time.advance(1000)
    assert.ok(bans.has(key(1)))
    assert.equal(bans.active()[0]?.code, 'B')
  })

  it('clear stops the timer', () => {
    const time = fakeTime()
    const bans = new BanList(time)
    bans.add(key(1), 1000, 'A')
    bans.clear()
    assert.equal(time.pending(), 0)
    assert.equal(bans.armed, false)
  })
})
