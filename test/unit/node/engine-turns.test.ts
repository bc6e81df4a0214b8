/**
 * Engine turns (core/node/engine-turns.ts): which joined project's round trains on the node's one
 * engine, on a simulated clock and timers, with participants reduced to what the gate sees of them
 * (they ask for a round, and ask again when poked). The end-to-end version, with hosts and
 * training, is test/integration/node/shares.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EngineTurns } from '../../../core/node/engine-turns.js'
import { emptySchedulerState, type SchedulerState } from '../../../core/node/scheduler.js'

const GRACE = 1000

/** A simulated monotonic clock with a queue of due callbacks (the turns' timer among them). */
class FakeTime {
  now = 0
  private seq = 0
  private queue: Array<{ at: number; seq: number; fn: () => void; live: boolean }> = []

  schedule(ms: number, fn: () => void): () => void {
    const entry = { at: this.now + Math.max(0, ms), seq: this.seq++, fn, live: true }
    this.queue.push(entry)
    return () => void (entry.live = false)
  }

  /** Runs everything due within `ms`, in time order, then sets the clock to the end. */
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      const next = this.queue
        .filter((e) => e.live && e.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next) break
      next.live = false
      this.now = next.at
      next.fn()
    }
    this.now = end
  }

  get pending(): number {
    return this.queue.filter((e) => e.live).length
  }
}

function setup(opts: { mayStart?: () => boolean } = {}) {
  const time = new FakeTime()
  let scheduler: SchedulerState = emptySchedulerState()
  const pokes: string[] = []
  const grants: string[] = []
  const hooks = { onPoke: (_key: string) => {} }
  const turns = new EngineTurns({
    scheduler: { get: () => scheduler, set: (s) => void (scheduler = s) },
    mayStart: opts.mayStart ?? (() => true),
    onGrant: (key, round) => grants.push(`${key}${round}`),
    handoffGraceMs: GRACE,
    clock: () => time.now,
    timers: { set: (fn, ms) => time.schedule(ms, fn) },
  })
  const add = (key: string, share: number, paused = false) =>
    turns.add(key, { share, paused }, () => {
      pokes.push(key)
      hooks.onPoke(key)
    })
  return { time, turns, pokes, grants, add, hooks, scheduler: () => scheduler }
}

/**
 * A (share 3) and B (share 1); B trained round 0, then A round 0, each 10 s: A is owed time (its
 * fair 3/4 of 20 s is more than its 10 s) and has just finished. Returns at A's round's end.
 */
function aOwedAndJustFinished() {
  const s = setup()
  s.add('A', 3)
  s.add('B', 1)
  assert.equal(s.turns.gate('B', 0), true, 'B first: A has not asked')
  s.time.advance(10_000)
  s.turns.trained('B', 10)
  assert.equal(s.turns.gate('A', 0), true)
  s.time.advance(10_000)
  s.turns.trained('A', 10)
  assert.equal(s.turns.training, null)
  return s
}

describe('engine turns', () => {
  it('grants one round at a time: nobody else while a round holds the engine', () => {
    const s = setup()
    s.add('A', 1)
    s.add('B', 5)
    assert.equal(s.turns.gate('A', 0), true)
    assert.equal(s.turns.training, 'A')
    // B has the larger share and no usage: the scheduler alone would pick it.
    assert.equal(s.turns.gate('B', 0), false)
    s.time.advance(60_000)
    assert.equal(s.turns.gate('B', 0), false, 'still A’s round, however long it takes')
    assert.deepEqual(s.grants, ['A0'])
    s.turns.trained('A', 60)
    assert.deepEqual(s.pokes, ['B'], 'the waiting project is asked again when the round ends')
    assert.equal(s.turns.gate('B', 0), true)
    assert.equal(s.turns.training, 'B')
    assert.deepEqual(s.grants, ['A0', 'B0'])
    assert.deepEqual(s.turns.stats, { granted: 2, refused: 2 })
  })

  it('hand-off grace: the owed project’s next round within the grace gets the engine', () => {
    const s = aOwedAndJustFinished()
    s.time.advance(GRACE / 2)
    // A has no round open yet (its host is closing the last one): B asks first, and waits.
    assert.equal(s.turns.gate('B', 1), false, 'B took the engine at the boundary')
    s.time.advance(GRACE / 2 - 100)
    assert.equal(s.turns.gate('A', 1), true)
    assert.deepEqual(s.grants, ['B0', 'A0', 'A1'])
  })

  it('hand-off grace: after it, another project gets the engine', () => {
    const s = aOwedAndJustFinished()
    s.time.advance(GRACE / 2)
    assert.equal(s.turns.gate('B', 1), false)
    s.pokes.length = 0
    s.time.advance(GRACE / 2 - 100)
    assert.deepEqual(s.pokes, [], 'asked again before the claim lapsed')
    // A's next round does not come: when the grace ends, B is asked again, and goes.
    s.time.advance(200)
    assert.deepEqual(s.pokes, ['B'])
    assert.equal(s.turns.gate('B', 1), true)
    assert.deepEqual(s.grants, ['B0', 'A0', 'B1'])
    assert.equal(s.turns.gate('A', 1), false, 'A comes late: B’s round holds the engine')
  })

  it('a chosen project whose round never comes holds the engine no longer than the grace', () => {
    const s = setup()
    s.add('A', 3)
    s.add('B', 1)
    assert.equal(s.turns.gate('B', 0), true)
    // A's round opens while B trains; A waits. Then A's host vanishes: its round will not come.
    assert.equal(s.turns.gate('A', 5), false)
    s.time.advance(10_000)
    s.pokes.length = 0
    s.turns.trained('B', 10)
    assert.deepEqual(s.pokes, ['A'])
    // A is owed the most and still waiting, so it is chosen; it is poked, but never asks again.
    s.time.advance(100)
    s.pokes.length = 0
    assert.equal(s.turns.gate('B', 1), false)
    assert.deepEqual(s.pokes, ['A'], 'the chosen project is told to go')
    s.time.advance(GRACE - 200)
    assert.equal(s.turns.gate('B', 1), false, 'its claim holds within the grace')
    s.pokes.length = 0
    s.time.advance(300)
    assert.deepEqual(s.pokes, ['A', 'B'], 'the waiting projects are asked again at the lapse')
    assert.equal(s.turns.gate('B', 1), true)
    // The lapsed claim stays lapsed: B's next round goes at once, with no second grace.
    s.time.advance(10_000)
    s.turns.trained('B', 10)
    assert.equal(s.turns.gate('B', 2), true)
    assert.deepEqual(s.grants, ['B0', 'B1', 'B2'])
    // A asking again (a new round of its) is a fresh claim: owed, it goes after B's round.
    assert.equal(s.turns.gate('A', 6), false)
    s.turns.trained('B', 10)
    assert.equal(s.turns.gate('A', 6), true)
  })

  it('a paused project is never granted, and pausing releases its claim', () => {
    const s = setup()
    s.add('P', 10, true)
    assert.equal(s.turns.gate('P', 0), false, 'paused, even alone')
    s.time.advance(60_000)
    assert.equal(s.turns.gate('P', 0), false)
    assert.equal(s.turns.training, null)

    const o = aOwedAndJustFinished()
    o.time.advance(GRACE / 2)
    assert.equal(o.turns.gate('B', 1), false, 'A’s claim (owed, within the grace)')
    o.turns.update('A', { paused: true })
    assert.equal(o.turns.gate('B', 1), true, 'the paused project’s claim is gone')
    assert.equal(o.turns.gate('A', 1), false)
    o.time.advance(10_000)
    o.turns.trained('B', 10)
    assert.equal(o.turns.gate('A', 1), false, 'paused: not even with the engine free')
    assert.equal(o.turns.training, null)
    o.pokes.length = 0
    o.turns.update('A', { paused: false })
    assert.deepEqual(o.pokes, ['A'], 'unpausing asks the waiting projects again')
    assert.equal(o.turns.gate('A', 1), true)
  })

  it('grants nothing while the node may not start a round, or after close', () => {
    let may = false
    const s = setup({ mayStart: () => may })
    s.add('A', 1)
    assert.equal(s.turns.gate('A', 0), false)
    may = true
    s.turns.pokeWaiting()
    assert.deepEqual(s.pokes, ['A'])
    assert.equal(s.turns.gate('A', 0), true)
    s.turns.trained('A', 1)
    s.add('B', 1)
    assert.equal(s.turns.gate('B', 0), false, 'A’s claim within the grace')
    assert.equal(s.time.pending, 1, 'a hand-off is armed')
    s.turns.close()
    assert.equal(s.time.pending, 0, 'close cancels it')
    assert.equal(s.turns.gate('A', 1), false)
  })

  it('over many rounds the grants follow the 3:1 shares', () => {
    // Both projects always have work: each opens its next round 100 ms after its last one ends
    // (within the grace), and every round takes 5 s. A participant asks for its round when it
    // opens and again when poked.
    const s = setup()
    const round: Record<string, number> = { A: 0, B: 0 }
    const asking = new Set<string>()
    const trained: string[] = []
    let overlaps = 0
    const ask = (key: string, ms: number) => {
      if (asking.has(key)) return
      asking.add(key)
      s.time.schedule(ms, () => {
        asking.delete(key)
        const busy = s.turns.training
        if (!s.turns.gate(key, round[key]!)) return
        if (busy !== null) overlaps++
        s.time.schedule(5000, () => {
          trained.push(key)
          round[key]!++
          s.turns.trained(key, 5)
          ask(key, 100)
        })
      })
    }
    for (const key of ['A', 'B']) {
      s.add(key, key === 'A' ? 3 : 1)
      ask(key, 0)
    }
    s.hooks.onPoke = (key) => ask(key, 0)
    for (let i = 0; i < 1000 && trained.length < 40; i++) s.time.advance(1000)
    const a = trained.slice(0, 40).filter((k) => k === 'A').length
    const line = trained.slice(0, 40).join('')
    assert.equal(overlaps, 0, line)
    assert.ok(a >= 28 && a <= 32, `A trained ${a} of 40 rounds: ${line}`)
    const used = s.scheduler().projects
    const fraction = used['A']!.lifetime / (used['A']!.lifetime + used['B']!.lifetime)
    assert.ok(Math.abs(fraction - 0.75) < 0.05, `A used ${fraction} of the compute: ${line}`)
  })
})
