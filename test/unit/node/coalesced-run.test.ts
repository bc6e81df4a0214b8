/** One rebuild in flight: a burst of requests costs at most two runs, each fresh after the last. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CoalescedRun } from '../../../core/node/coalesced-run.js'

/** A job whose runs finish only when the test says; each resolves with its run number. */
function gatedJob() {
  const pending: Array<() => void> = []
  let started = 0
  const job = () => {
    const n = ++started
    return new Promise<number>((resolve) => pending.push(() => resolve(n)))
  }
  const finish = async () => {
    assert.ok(pending.length > 0, 'a run in flight')
    pending.shift()!()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { job, finish, started: () => started, pending }
}

describe('coalesced run', () => {
  it('serves a burst during a run with one next run', async () => {
    const g = gatedJob()
    const run = new CoalescedRun(g.job)
    const first = run.request()
    await new Promise((resolve) => setImmediate(resolve))
    const burst = Array.from({ length: 5000 }, () => run.request())
    assert.equal(g.started(), 1, 'nothing else starts while a run is in flight')
    await g.finish()
    assert.equal(await first, 1)
    assert.equal(g.started(), 2, 'the burst shares one next run')
    assert.equal(g.pending.length, 1)
    await g.finish()
    assert.deepEqual(new Set(await Promise.all(burst)), new Set([2]))
    assert.equal(run.runs, 2)
    // Idle again: the next request starts at once.
    const later = run.request()
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(g.started(), 3)
    await g.finish()
    assert.equal(await later, 3)
  })

  it('a failed run rejects its own requesters; the next run still happens', async () => {
    let calls = 0
    let fail: (err: Error) => void = () => {}
    const run = new CoalescedRun(
      () =>
        new Promise<number>((resolve, reject) => {
          calls++
          if (calls === 1) fail = reject
          else resolve(calls)
        }),
    )
    const first = run.request()
    await new Promise((resolve) => setImmediate(resolve))
    const second = run.request()
    fail(new Error('boom'))
    await assert.rejects(first, /boom/)
    assert.equal(await second, 2)
  })
})
