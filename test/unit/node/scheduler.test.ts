/** The multi-project scheduler: shares honoured over many rounds, paused and new projects. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  SchedulerState,
  emptySchedulerState,
  forget,
  pick,
  record,
  type SchedProject,
} from '../../../core/node/scheduler.js'

const project = (key: string, share: number, extra: Partial<SchedProject> = {}): SchedProject => ({
  key,
  share,
  joined: true,
  paused: false,
  ...extra,
})

/** Runs `rounds` round boundaries; `roundSec(key)` is how long a round of that project takes. */
function simulate(
  projects: SchedProject[] | ((round: number) => SchedProject[]),
  rounds: number,
  roundSec: (key: string) => number = () => 60,
  start: SchedulerState = emptySchedulerState(),
) {
  let state = start
  const time: Record<string, number> = {}
  const order: Array<string | null> = []
  for (let r = 0; r < rounds; r++) {
    const list = typeof projects === 'function' ? projects(r) : projects
    const chosen = pick(list, state)
    state = chosen.state
    order.push(chosen.key)
    if (chosen.key === null) continue
    const sec = roundSec(chosen.key)
    time[chosen.key] = (time[chosen.key] ?? 0) + sec
    state = record(state, chosen.key, sec)
  }
  return { state, time, order }
}

const within = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance * expected,
    `${what}: ${actual.toFixed(3)}, want ${expected} ± ${tolerance * 100}%`,
  )

describe('project scheduler', () => {
  it('shares 3:1 get compute time 3:1 over many rounds', () => {
    const { time } = simulate([project('a', 3), project('b', 1)], 2000)
    within(time['a']! / time['b']!, 3, 0.1, 'a:b time')
  })

  it('holds the ratio when the projects have very different round lengths', () => {
    const { time } = simulate([project('a', 3), project('b', 1)], 3000, (k) =>
      k === 'a' ? 25 : 170,
    )
    within(time['a']! / time['b']!, 3, 0.1, 'a:b time')
  })

  it('interleaves instead of running one project for long stretches', () => {
    const { order } = simulate([project('a', 1), project('b', 1)], 40)
    for (let i = 0; i + 2 < order.length; i++) {
      assert.ok(!(order[i] === order[i + 1] && order[i] === order[i + 2]), `run of 3 at ${i}`)
    }
  })

  it('skips paused and unjoined projects, and an unpaused one is not owed what it missed', () => {
    const paused = [
      project('a', 1),
      project('b', 1, { paused: true }),
      project('c', 5, { joined: false }),
    ]
    const first = simulate(paused, 200)
    assert.deepEqual(Object.keys(first.time), ['a'])
    const resumed = simulate([project('a', 1), project('b', 1)], 20, () => 60, first.state)
    // Equal shares from here on: b gets about half, not all 20 rounds to catch up.
    within(resumed.time['b']! / 60, 10, 0.15, 'rounds for b after resuming')
  })

  it('a new project does not starve the others', () => {
    const before = simulate([project('a', 2), project('b', 2)], 1000)
    const after = simulate(
      [project('a', 2), project('b', 2), project('c', 1)],
      50,
      () => 60,
      before.state,
    )
    within(after.time['c']! / 60, 10, 0.2, 'rounds for newcomer c (1/5 of 50)')
    within(after.time['a']! / 60, 20, 0.2, 'rounds for a')
    within(after.time['b']! / 60, 20, 0.2, 'rounds for b')
    assert.ok(after.order.slice(0, 6).includes('c'), 'c gets a round early on')
  })

  it('a project without work is skipped, and catches up for at most the deficit cap', () => {
    const list = (r: number) => [project('a', 1), project('b', 1, { ready: r >= 500 })]
    const { order } = simulate(list, 600)
    assert.ok(order.slice(0, 500).every((k) => k === 'a'))
    let streak = 0
    while (order[500 + streak] === 'b') streak++
    // One hour of catch-up at 60 s a round, then alternation.
    assert.ok(streak >= 50 && streak <= 61, `b ran ${streak} rounds in a row`)
  })

  it('returns null when nothing is eligible and ready', () => {
    assert.equal(pick([], emptySchedulerState()).key, null)
    const none = [project('a', 1, { paused: true }), project('b', 1, { ready: false })]
    assert.equal(pick(none, emptySchedulerState()).key, null)
  })

  it('is deterministic, breaks ties by share then key, and ignores list order', () => {
    const s = emptySchedulerState()
    assert.equal(pick([project('b', 1), project('a', 1)], s).key, 'a')
    assert.equal(pick([project('a', 1), project('b', 2)], s).key, 'b')
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }),
        (shares, picksOf) => {
          const list = shares.map((share, i) => project(`p${i}`, share))
          let state = emptySchedulerState()
          for (const i of picksOf)
            state = record(pick(list, state).state, `p${i % shares.length}`, 30)
          const forward = pick(list, state)
          const backward = pick([...list].reverse(), state)
          return forward.key === backward.key && SchedulerState.safeParse(forward.state).success
        },
      ),
    )
  })

  it('state survives a JSON round trip and forget drops a project', () => {
    const { state } = simulate([project('a', 3), project('b', 1)], 50)
    const copy = SchedulerState.parse(JSON.parse(JSON.stringify(state)))
    assert.deepEqual(copy, state)
    assert.deepEqual(Object.keys(forget(copy, 'a').projects), ['b'])
    assert.ok(copy.projects['a']!.lifetime > copy.projects['a']!.used * 0.9)
    assert.equal(record(copy, 'a', Number.NaN), copy)
  })
})
