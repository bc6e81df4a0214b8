/**
 * Each preference of a contributor node takes effect on the running node, without a restart: a
 * real ContributorNode (its own home, identity, corestore and swarm) joined to a real host on a
 * loopback testnet, training a small MLP for real on the cpu backend (one thread until the test
 * about threads switches to wasm with two). The node is the project's only contributor and the host closes a round as soon
 * as its update is in (minUpdates = maxUpdates = 1), so rounds follow one another.
 *
 * Timing is measured, never slept for: pause latency is the time from pause() to the last engine
 * step that arrives after it; "stays paused" is a fixed quiet window in which no step may arrive
 * (that window is the measurement). Rate caps are tested in rate-limit.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import type { ApiEvent } from '../../../core/api/contract.js'
import type { EngineOptions } from '../../../core/engine/engine.js'
import type { StepInfo } from '../../../core/engine/inner-loop.js'
import type { ContributorNode } from '../../../core/node/node.js'
import {
  receiptFor,
  recordSteps,
  startTestNode,
  startWideHost,
  trainingStep,
} from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

/**
 * 160 steps of a 12 → 128 → 128 → 3 MLP, 15–60 ms each on one loaded core: long enough to pause,
 * resume, throttle and change settings in the middle of one round. (The fixtures' tiny MLP steps
 * in a few ms; there the duty-cycle measurement would be mostly scheduler noise, as each rest
 * ends with the worker waiting for a core again.)
 */
const RECIPE = { minUpdates: 1, maxUpdates: 1, innerSteps: 160, batchSize: 64 }
/** Steps in each duty-cycle measurement window. */
const WINDOW = 40
/** How long "no step arrives" is watched for after a pause. */
const QUIET_MS = 1500

/** Waits until the engine has reported `count` more steps than `steps` holds now. */
async function moreSteps(steps: unknown[], count: number, what: string, timeoutMs = 30_000) {
  const target = steps.length + count
  await waitUntil(() => steps.length >= target, what, timeoutMs)
}

/** Pauses with `pause`, returns ms from the call to the last step that still arrived after it. */
async function measurePause(
  node: ContributorNode,
  steps: Array<StepInfo & { at: number }>,
  pause: () => void,
  what: string,
): Promise<number> {
  const before = steps.length
  const t0 = performance.now()
  pause()
  assert.equal(node.engine.paused, true, `${what}: the engine is paused at once`)
  await delay(QUIET_MS)
  const late = steps.slice(before)
  const latency = late.length ? late.at(-1)!.at - t0 : 0
  console.log(
    `  # ${what}: ${late.length} step(s) after the pause, the last ${latency.toFixed(0)} ms after it`,
  )
  // Under 1 s, so the rest of the quiet window (≥ 0.5 s) saw no step at all.
  assert.ok(latency < 1000, `${what}: a step arrived ${latency.toFixed(0)} ms after the pause`)
  return latency
}

/** Current engine options (private: the engine only exposes setOptions). */
function engineOptions(node: ContributorNode): Required<EngineOptions> {
  return (node.engine as unknown as { options: Required<EngineOptions> }).options
}

/** Worker threads of the running job (private, read only while a round trains). */
function engineWorkers(node: ContributorNode): number {
  return (node.engine as unknown as { workers: unknown[] }).workers.length
}

describe('contributor node preferences', () => {
  it('each takes effect on the running node, without a restart', async (t) => {
    const started = Date.now()
    const net = await loopbackTestnet(t)
    const h = await startWideHost(t, net, RECIPE, [128, 128])
    await h.host.start()

    // A clock that runs at real speed from the last Wednesday, 12:00 local time (never ahead of
    // the real one, so round deadlines still lie ahead of it).
    const wed = new Date()
    wed.setHours(12, 0, 0, 0)
    wed.setDate(wed.getDate() - ((wed.getDay() - 3 + 7) % 7))
    if (wed.getTime() > Date.now()) wed.setDate(wed.getDate() - 7)
    const offset = wed.getTime() - Date.now()
    const thursday = { day: 4, start: '09:00', end: '17:00' }
    const wednesday = { day: 3, start: '09:00', end: '17:00' }
    const node = await startTestNode(t, net, {
      now: () => Date.now() + offset,
      engine: {}, // no override: the settings decide backend and threads
      settings: {
        dutyCycle: 1,
        backend: 'cpu',
        maxThreads: 1,
        schedule: { enabled: true, windows: [thursday] },
      },
    })
    const steps = recordSteps(node)
    const backends: string[] = []
    node.engine.on('backend', (s: { chosen: string }) => backends.push(s.chosen))
    await node.join(h.project)
    const participant = node.participant(h.project)!
    const round0 = (from: number, what: string) =>
      trainingStep(node, (x) => x.round === 0 && x.step >= from, what)
    // Each step below needs round 0 still training when it starts.
    const stillRound0 = () =>
      assert.equal(participant.status().training?.round, 0, 'round 0 ended too early')

    await t.test('a schedule that excludes now keeps the node waiting', async () => {
      await waitUntil(
        () => /round 0 is open; waiting for this node's turn/.test(participant.status().detail),
        'round 0 to be open and refused by the schedule',
        30_000,
      )
      await waitUntil(() => node.status().peers > 0, 'the node to reach the host')
      const status = node.status()
      assert.equal(status.activity, 'waiting')
      assert.match(status.reason, /outside the schedule; next window Thu 09:00/)
      await delay(QUIET_MS)
      assert.equal(steps.length, 0, 'trained outside the schedule')
      assert.equal(participant.status().training, null)
    })

    await t.test('a schedule that includes now starts training', async () => {
      await node.settings.update({ schedule: { enabled: true, windows: [thursday, wednesday] } })
      await round0(1, 'round 0 to train inside the window')
      assert.equal(node.status().activity, 'training')
      assert.deepEqual(backends, ['cpu'])
      assert.equal(engineWorkers(node), 1)
    })

    await t.test('pause now stops the engine within 1 s; resume continues the round', async () => {
      const p = await round0(3, 'round 0 to train')
      stillRound0()
      await measurePause(node, steps, () => node.pause('now'), 'pause now')
      const status = node.status()
      assert.equal(status.activity, 'paused')
      assert.equal(status.reason, 'paused by you')
      assert.equal(status.userPaused, true)
      assert.equal(status.progress?.round, 0, 'the round is kept, not abandoned')
      node.resume()
      assert.equal(node.engine.paused, false)
      const next = await round0(p.step + 1, 'round 0 to continue')
      assert.ok(next.step > p.step)
      assert.equal(node.status().activity, 'training')
    })

    await t.test('on battery pauses with a reason; on mains resumes', async () => {
      assert.equal(node.settings.get().pauseOnBattery, true)
      const p = await round0(0, 'round 0 to train')
      stillRound0()
      await measurePause(node, steps, () => node.setEnvironment({ onBattery: true }), 'battery')
      const status = node.status()
      assert.equal(status.activity, 'waiting')
      assert.equal(status.reason, 'on battery power')
      assert.equal(status.userPaused, false)
      node.setEnvironment({ onBattery: false })
      const next = await round0(p.step + 1, 'round 0 to continue on mains')
      assert.ok(next.step > p.step)
    })

    await t.test(
      'a hold from the desktop shell pauses with its reason; release resumes',
      async () => {
        const p = await round0(0, 'round 0 to train')
        stillRound0()
        const hold = () => node.setEnvironment({ hold: 'the screen is locked' })
        await measurePause(node, steps, hold, 'screen locked')
        const status = node.status()
        assert.equal(status.activity, 'waiting')
        assert.equal(status.reason, 'the screen is locked')
        node.setEnvironment({ hold: null })
        const next = await round0(p.step + 1, 'round 0 to continue after the hold')
        assert.ok(next.step > p.step)
      },
    )

    await t.test('a 50% duty cycle halves compute per wall time', async () => {
      await round0(0, 'round 0 to train')
      stillRound0()
      // Two measures over the same steps: time in steps per wall time, and the CPU time this
      // process used (all threads: the engine's worker, this test's node and host) per wall time.
      const ratio = (from: number, to: number) => {
        const window = steps.slice(from, to)
        const wall = window.at(-1)!.at - window[0]!.at
        const compute = window.slice(1).reduce((sum, s) => sum + s.ms, 0)
        return { compute: compute / wall, cpu: (window.at(-1)!.cpuMs - window[0]!.cpuMs) / wall }
      }
      const a = steps.length
      await moreSteps(steps, WINDOW, `${WINDOW} steps at duty 1`)
      const full = ratio(a, a + WINDOW)
      await node.settings.update({ dutyCycle: 0.5 })
      assert.equal(engineOptions(node).dutyCycle, 0.5)
      // The step in flight when the setting changed may still run at the old pace.
      const b = steps.length + 1
      await moreSteps(steps, WINDOW + 1, `${WINDOW} steps at duty 0.5`)
      const half = ratio(b, b + WINDOW)
      await node.settings.update({ dutyCycle: 1 })
      const meanMs = steps.slice(a, b + WINDOW).reduce((sum, s) => sum + s.ms, 0) / (b + WINDOW - a)
      const line =
        `compute/wall: ${full.compute.toFixed(2)} at duty 1, ${half.compute.toFixed(2)} at duty ` +
        `0.5; CPU time/wall: ${full.cpu.toFixed(2)} → ${half.cpu.toFixed(2)} ` +
        `(×${(half.cpu / full.cpu).toFixed(2)}; steps of ${meanMs.toFixed(1)} ms)`
      console.log(`  # ${line}`)
      stillRound0()
      assert.ok(full.compute > 0.6, line)
      assert.ok(half.compute > 0.3 && half.compute < 0.65, line)
      assert.ok(half.compute < full.compute * 0.75, line)
      // The comfort governor's point: the machine's CPU is used about half as much.
      assert.ok(half.cpu / full.cpu > 0.3 && half.cpu / full.cpu < 0.75, line)
    })

    await t.test('backend and threads changed mid-round apply to the next round', async () => {
      stillRound0()
      // Status says what the engine runs on (no pre-flight ran), and why not the better ones.
      const running = node.status().backend
      assert.equal(running?.chosen, 'cpu')
      assert.deepEqual(
        running?.skipped.map((s) => `${s.name}: ${s.reason}`),
        ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm'].map(
          (name) => `${name}: not tried: the Backend setting is cpu`,
        ),
      )
      await node.settings.update({ backend: 'wasm', maxThreads: 2 })
      const opts = engineOptions(node)
      assert.equal(opts.backend, 'wasm')
      assert.equal(opts.maxThreads, 2)
      assert.equal(engineWorkers(node), 1, 'the running round keeps its worker')
      assert.deepEqual(backends, ['cpu'])
    })

    await t.test(
      '"finish this round, then pause" offers the round, then trains no more',
      async () => {
        stillRound0()
        node.pause('after-round')
        let status = node.status()
        assert.equal(status.pauseAfterRound, true)
        assert.equal(status.activity, 'training', 'the round in progress goes on')
        assert.equal(node.engine.paused, false)

        const receipt = await receiptFor(node, h.project, 0)
        assert.equal(receipt.accepted, true, 'the round was finished and offered')
        status = node.status()
        assert.equal(status.activity, 'paused')
        assert.equal(status.userPaused, true)
        assert.equal(status.pauseAfterRound, false)
        // Round 0 was one job: every step once, in order, nothing retrained.
        assert.deepEqual(
          steps.slice(0, RECIPE.innerSteps).map((s) => s.step),
          Array.from({ length: RECIPE.innerSteps }, (_, i) => i),
        )

        // Round 1 opens; the node sees it and does not train it.
        await waitUntil(
          () => /round 1 is open; waiting for this node's turn/.test(participant.status().detail),
          'round 1 to be open and refused',
          30_000,
        )
        const before = steps.length
        await delay(QUIET_MS)
        assert.equal(steps.length, before, 'trained while paused')
        assert.equal(participant.status().training, null)
        assert.equal(node.status().activity, 'paused')
      },
    )

    await t.test('a pause while the next round downloads holds it at its first step', async () => {
      // Paused the moment the scheduler grants round 1, before its job exists on the engine.
      const onGrant = (e: ApiEvent) => {
        if (e.event !== 'progress' || e.data.round !== 1 || e.data.phase !== 'downloading') return
        node.off('event', onGrant)
        node.pause('now')
      }
      node.on('event', onGrant)
      const before = steps.length
      node.resume()
      await waitUntil(() => backends.length === 2, 'round 1 to start on the engine', 30_000)
      await delay(QUIET_MS)
      assert.ok(steps.length - before <= 1, `${steps.length - before} steps ran while paused`)
      assert.equal(node.engine.paused, true)
      assert.equal(node.status().activity, 'paused')

      // Round 1's job runs as the settings changed in round 0 said.
      assert.deepEqual(backends, ['cpu', 'wasm'])
      assert.equal(engineWorkers(node), 2, 'round 1 runs two data-parallel workers')
      node.resume()
      await trainingStep(node, (x) => x.round === 1 && x.step >= 2, 'round 1 to train')
    })
    console.log(`  # preferences: ${Date.now() - started} ms`)
  })
})
