/** The token bucket under a fake clock, and the limiter's refusal of streams it cannot wrap. */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { isTandemError } from '../../../core/api/errors.js'
import { RateLimiter, ByteRateBucket, capsFromSettings } from '../../../core/node/rate-limit.js'
import { defaultSettings } from '../../../core/node/settings.js'

/** A bucket on a clock that moves only when the test says, with setTimeout mocked to match. */
function fakeClock(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  let now = 0
  return {
    now: () => now,
    advance(ms: number) {
      now += ms
      t.mock.timers.tick(ms)
    },
  }
}

describe('token bucket', () => {
  it('unlimited runs everything at once', () => {
    const bucket = new ByteRateBucket(0)
    bucket.consume(1e9)
    let ran = false
    bucket.whenReady(() => (ran = true))
    assert.ok(ran)
  })

  it('lets a large message through whole, then makes the next wait out the debt', (t) => {
    const clock = fakeClock(t)
    const bucket = new ByteRateBucket(100_000, { now: clock.now, burstSec: 0.2 }) // starts empty, holds ≤ 0.2 s
    assert.ok(bucket.ready())
    bucket.consume(30_000) // 300 ms of debt
    const order: string[] = []
    bucket.whenReady(() => order.push('first'))
    bucket.whenReady(() => order.push('second'))
    clock.advance(299)
    assert.deepEqual(order, [])
    clock.advance(1)
    assert.deepEqual(order, ['first', 'second'])
  })

  it('refills at the rate up to the burst, never beyond', (t) => {
    const clock = fakeClock(t)
    const bucket = new ByteRateBucket(100_000, { now: clock.now, burstSec: 0.2 })
    clock.advance(10_000) // idle for 10 s: still only 0.2 s worth saved
    bucket.consume(20_000)
    assert.ok(bucket.ready())
    bucket.consume(1)
    assert.ok(!bucket.ready())
  })

  it('a rate change reschedules waiters; unlimited releases them; cancel removes one', (t) => {
    const clock = fakeClock(t)
    const bucket = new ByteRateBucket(1000, { now: clock.now }) // 4 KiB minimum burst
    bucket.consume(1000) // one second of debt at 1000 B/s
    const ran: string[] = []
    const cancel = bucket.whenReady(() => ran.push('cancelled'))
    bucket.whenReady(() => ran.push('kept'))
    cancel()
    bucket.setRate(10_000) // the same debt is now 100 ms
    clock.advance(100)
    assert.deepEqual(ran, ['kept'])
    bucket.consume(1e6)
    bucket.whenReady(() => ran.push('released'))
    bucket.setRate(0)
    assert.deepEqual(ran, ['kept', 'released'])
  })

  it('refuses a negative or non-finite rate', () => {
    for (const bad of [-1, Number.NaN, Infinity]) {
      assert.throws(
        () => new ByteRateBucket(bad),
        (err: unknown) => isTandemError(err) && err.code === 'BAD_ARGUMENT',
      )
    }
  })
})

describe('rate limiter', () => {
  it('takes its caps from the settings and reports them', () => {
    const limiter = new RateLimiter(capsFromSettings({ ...defaultSettings(2), uploadKiBps: 64 }))
    assert.deepEqual(limiter.caps, { uploadKiBps: 64, downloadKiBps: 0 })
    limiter.setCaps({ uploadKiBps: 0, downloadKiBps: 8 })
    assert.equal(limiter.stats().downloadKiBps, 8)
  })

  it('refuses a stream without the secret-stream internals, and a second attach', () => {
    const limiter = new RateLimiter()
    assert.throws(
      () => limiter.attach({ write() {} }),
      (err: unknown) => isTandemError(err) && err.code === 'BAD_ARGUMENT',
    )
    const proto = {
      _write() {},
      _read() {},
      _predestroy() {},
      push: () => true,
      once() {},
    }
    const stream = Object.create(proto) as object
    const detach = limiter.attach(stream)
    assert.equal(limiter.stats().connections, 1)
    assert.throws(() => limiter.attach(stream), /already throttled/)
    detach()
    assert.equal(limiter.stats().connections, 0)
    assert.deepEqual(Object.keys(stream), []) // the stream's own methods are back
  })
})
