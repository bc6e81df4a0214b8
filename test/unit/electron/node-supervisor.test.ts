/**
 * The node's utility-process supervisor, with a fake utilityProcess (the Electron binary cannot
 * run here) and a scripted node on the other end of a fake MessageChannelMain: calls and events
 * are forwarded, a crash restarts the node with growing backoff and says so, the session's state
 * reaches every new process, and quitting stops the node within its deadline or kills it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  describeNodeState,
  NODE_DOWN,
  NodeSupervisor,
  type NodeState,
} from '../../../electron/main/node-supervisor.js'
import type { ToNode } from '../../../electron/main/node-messages.js'
import { fakeChannel, FakeUtilityProcess, type FakePort } from '../../support/fake-electron.js'
import { waitUntil } from '../../support/wait.js'

interface Spawned {
  child: FakeUtilityProcess
  node: FakePort
  got: ToNode[]
}

/** A supervisor whose every spawn is a fake process with a scripted node behind its port. */
function harness(script: { ready?: boolean; failWith?: string; ignoreStop?: boolean }) {
  const spawned: Spawned[] = []
  const states: NodeState[] = []
  const events: unknown[] = []
  const sup = new NodeSupervisor({
    spawn: () => {
      const child = new FakeUtilityProcess('out/main/node.js', [])
      const { port1, port2 } = fakeChannel()
      const got: ToNode[] = []
      port2.on('message', ({ data }: { data: ToNode }) => {
        got.push(data)
        if (data.type === 'request')
          port2.postMessage({
            type: 'reply',
            id: data.id,
            outcome: { ok: true, value: data.payload },
          })
        if (data.type === 'stop' && !script.ignoreStop) {
          port2.postMessage({ type: 'stopped' })
          child.exitWith(0)
        }
      })
      setImmediate(() => {
        if (script.failWith) {
          port2.postMessage({ type: 'failed', message: script.failWith })
          setTimeout(() => child.exitWith(1), 5)
        } else if (script.ready !== false) port2.postMessage({ type: 'ready' })
      })
      spawned.push({ child, node: port2, got })
      return { child, port: port1 }
    },
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    backoff: { initialMs: 20, maxMs: 80, stableMs: 60_000 },
    stopDeadlineMs: 100,
  })
  return { sup, spawned, states, events }
}

describe('node supervisor', () => {
  it('forwards calls and events once the node is ready; answers WRONG_STATE before', async () => {
    const { sup, spawned, events } = harness({})
    sup.start()
    assert.deepEqual(await sup.request({ method: 'early' }), NODE_DOWN)
    await waitUntil(() => sup.state.state === 'running', 'the node to be ready')
    assert.deepEqual(await sup.request({ method: 'node.status' }), {
      ok: true,
      value: { method: 'node.status' },
    })
    spawned[0]!.node.postMessage({ type: 'event', event: { event: 'log', data: 1 } })
    await waitUntil(() => events.length === 1, 'the event to arrive')
    assert.deepEqual(events, [{ event: 'log', data: 1 }])
    await sup.stop()
  })

  it('restarts a crashed node with growing backoff, says why, and answers calls in flight', async () => {
    const { sup, spawned, states } = harness({})
    sup.start()
    await waitUntil(() => sup.state.state === 'running', 'first start')
    // A call in flight when the process dies is answered, not left hanging.
    spawned[0]!.node.removeAllListeners('message')
    const inFlight = sup.request({ method: 'slow' })
    spawned[0]!.child.exitWith(134)
    assert.deepEqual(await inFlight, NODE_DOWN)
    await waitUntil(() => sup.state.state === 'restarting', 'the crash to be seen')
    const first = sup.state as Extract<NodeState, { state: 'restarting' }>
    assert.equal(first.retryInMs, 20)
    assert.match(describeNodeState(first), /exited unexpectedly \(code 134\); restarting in 1 s/)
    await waitUntil(() => sup.state.state === 'running' && spawned.length === 2, 'the restart')
    spawned[1]!.child.exitWith(1)
    await waitUntil(() => spawned.length === 3 && sup.state.state === 'running', 'second restart')
    const delays = states.flatMap((s) => (s.state === 'restarting' ? [s.retryInMs] : []))
    assert.deepEqual(delays, [20, 40], 'the backoff doubles')
    spawned[2]!.child.exitWith(1)
    await waitUntil(() => spawned.length === 4 && sup.state.state === 'running', 'third restart')
    spawned[3]!.child.exitWith(1)
    await waitUntil(() => spawned.length === 5, 'fourth restart')
    const capped = states.flatMap((s) => (s.state === 'restarting' ? [s.retryInMs] : []))
    assert.deepEqual(capped, [20, 40, 80, 80], 'and stops growing at the maximum')
    await sup.stop()
  })

  it('a node that cannot start says why', async () => {
    const { sup, states } = harness({ failWith: 'the state directory is locked' })
    sup.start()
    await waitUntil(() => states.some((s) => s.state === 'restarting'), 'the failure')
    const s = states.find((x) => x.state === 'restarting')!
    assert.match(describeNodeState(s), /could not start: the state directory is locked/)
    await sup.stop()
  })

  it('sends the session state reported so far to every new process', async () => {
    const { sup, spawned } = harness({})
    sup.setEnvironment({ onBattery: true, hold: 'the screen is locked' })
    sup.setNetwork('suspend')
    sup.start()
    await waitUntil(() => spawned[0]?.got.length === 2, 'the state to be sent')
    assert.deepEqual(spawned[0]!.got, [
      { type: 'environment', env: { onBattery: true, hold: 'the screen is locked' } },
      { type: 'network', action: 'suspend' },
    ])
    sup.setEnvironment({ hold: null })
    sup.setNetwork('resume')
    spawned[0]!.child.exitWith(1)
    await waitUntil(() => spawned[1]?.got.length === 1, 'the restarted node to be told')
    assert.deepEqual(spawned[1]!.got, [{ type: 'environment', env: { onBattery: true } }])
    await sup.stop()
  })

  it('stops the node cleanly within the deadline', async () => {
    const { sup, spawned } = harness({})
    sup.start()
    await waitUntil(() => sup.state.state === 'running', 'start')
    assert.equal(await sup.stop(), 'clean')
    assert.equal(spawned[0]!.child.killed, false)
    assert.deepEqual(sup.state, { state: 'stopped', restarts: 0, how: 'clean' })
    assert.equal(spawned.length, 1, 'no restart after a stop')
  })

  it('kills a node that does not stop within the deadline', async () => {
    const { sup, spawned } = harness({ ignoreStop: true })
    sup.start()
    await waitUntil(() => sup.state.state === 'running', 'start')
    const t0 = performance.now()
    assert.equal(await sup.stop(), 'killed')
    const took = performance.now() - t0
    assert.ok(took >= 95 && took < 1000, `stopped after ${took.toFixed(0)} ms (deadline 100)`)
    assert.equal(spawned[0]!.child.killed, true)
    assert.match(describeNodeState(sup.state), /did not stop in time/)
  })

  it('a stop during the backoff wait cancels the restart', async () => {
    const { sup, spawned } = harness({})
    sup.start()
    await waitUntil(() => sup.state.state === 'running', 'start')
    spawned[0]!.child.exitWith(1)
    await waitUntil(() => sup.state.state === 'restarting', 'the crash')
    assert.equal(await sup.stop(), 'clean')
    await new Promise((r) => setTimeout(r, 60))
    assert.equal(spawned.length, 1)
  })
})
