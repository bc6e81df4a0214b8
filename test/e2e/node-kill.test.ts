/**
 * Crash safety of the contributor node: the node runs in its own process (startNode, what `tandem
 * start` runs) with its state in a home dir, and is killed with SIGKILL twice: in the middle of
 * training a round (after an earlier round's receipt), and again right after it published and
 * offered a round's update. Each time it is started again on the same home and must come back as
 * itself (same key), still joined (same share), with its settings and its receipts from before;
 * the round cut short in training is trained again (or, had it been published, re-offered), the
 * published one is not trained again, and the rounds after land their receipts, with exactly one
 * contribution per round in the ledger. The host runs in the test process; the node is its only
 * contributor.
 *
 * node-state.json is read and schema-checked every few ms for the whole test, kills included: it
 * must never be seen half-written.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { NodeStateFile } from '../../core/node/node-state.js'
import { readLedger } from '../../core/ledger/reader.js'
import { tempDir } from '../support/data.js'
import { startTestHost } from '../support/host-fixtures.js'
import { spawnNodeProcess, type NodeProcessEvent } from '../support/node-fixtures.js'
import { loopbackTestnet } from '../support/swarm.js'

/** 120 steps at a 50% duty cycle: a round long enough to be killed in the middle of. */
const RECIPE = { minUpdates: 1, maxUpdates: 1, innerSteps: 120, batchSize: 64 }
const SETTINGS = { dutyCycle: 0.5, uploadKiBps: 4096, pauseOnBattery: false }

/** Reads node-state.json in a loop: every read that finds the file must parse and validate. */
function watchStateFile(path: string) {
  let reads = 0
  let missing = 0
  const bad: string[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      try {
        const text = await readFile(path, 'utf8')
        reads++
        try {
          NodeStateFile.parse(JSON.parse(text))
        } catch (err) {
          bad.push(`${(err as Error).message}: ${text.slice(0, 200)}`)
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        missing++
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  return {
    get reads() {
      return reads
    },
    bad,
    async stop() {
      stopped = true
      await loop
      return { reads, missing, bad }
    },
  }
}

const isReceipt = (round: number) => (e: NodeProcessEvent) =>
  e.event === 'receipt' && e.round === round

describe('contributor node: kill -9 mid-round', () => {
  it('restarts as itself, joined, with its settings and receipts, and goes on', async (t) => {
    const started = Date.now()
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, { recipe: RECIPE })
    await h.host.start()
    const home = await tempDir(t, 'tandem-node-kill-')
    const statePath = join(home, 'data', 'node-state.json')
    const watcher = watchStateFile(statePath)
    t.after(() => watcher.stop())
    const bootstrap = net.bootstrap[0]!

    // First life: join with share 7, change settings, earn round 0's receipt, die in round 1.
    const first = spawnNodeProcess(t, home, bootstrap, {
      join: [h.project],
      share: 7,
      settings: SETTINGS,
    })
    const hello = await first.waitFor((e) => e.event === 'started', 'the node to start')
    const key = hello.key as string
    const r0 = await first.waitFor(isReceipt(0), 'the receipt of round 0', 60_000)
    assert.equal(r0.accepted, true, JSON.stringify(r0))
    await first.waitFor(
      (e) => e.event === 'progress' && e.round === 1 && (e.step as number) >= 10,
      'round 1 to be training',
      60_000,
    )
    first.child.kill('SIGKILL')
    const exit = await first.exited
    assert.equal(exit.signal, 'SIGKILL')
    const lastStep = Math.max(
      ...first.events
        .filter((e) => e.event === 'progress' && e.round === 1)
        .map((e) => e.step as number),
    )
    console.log(
      `  # killed in round 1 at step ${lastStep} of ${RECIPE.innerSteps}, ${Date.now() - started} ms in`,
    )
    assert.ok(lastStep < RECIPE.innerSteps, 'round 1 was still training')
    assert.equal(first.events.filter(isReceipt(1)).length, 0)

    // What the dead node left: a whole state file that names the project and round 0's receipt.
    const left = NodeStateFile.parse(JSON.parse(await readFile(statePath, 'utf8')))
    assert.deepEqual(
      left.projects.map((p) => p.key),
      [h.project],
    )
    assert.deepEqual(
      left.receipts.map((r) => r.round),
      [0],
    )

    // Second life: nothing passed but the home dir.
    const second = spawnNodeProcess(t, home, bootstrap)
    const again = await second.waitFor((e) => e.event === 'started', 'the node to restart')
    assert.equal(again.key, key, 'the same identity')
    assert.equal(again.recovered, null, 'the state file was read, not set aside')
    const projects = again.projects as Array<{ key: string; share: number; paused: boolean }>
    assert.deepEqual(
      projects.map((p) => [p.key, p.share, p.paused]),
      [[h.project, 7, false]],
    )
    const settings = again.settings as Record<string, unknown>
    for (const [k, v] of Object.entries(SETTINGS)) assert.equal(settings[k], v, k)
    assert.deepEqual(again.receipts, [{ project: h.project, round: 0 }])

    // Round 1 is settled (retrained or re-offered) and round 2 follows.
    const r1 = await second.waitFor(isReceipt(1), 'the receipt of round 1', 60_000)
    const retrained = second.events.filter((e) => e.event === 'progress' && e.round === 1)
    console.log(
      `  # round 1 after the restart: ${retrained.length ? `retrained from step ${retrained[0]!.step as number}` : 're-offered'}; accepted ${String(r1.accepted)}`,
    )

    // Second kill: round 2 trained, its update published and offered, its receipt not yet seen.
    const offered2 = await second.waitFor(
      (e) => e.event === 'offer' && e.round === 2,
      'round 2 to be offered',
      60_000,
    )
    second.child.kill('SIGKILL')
    await second.exited
    const seen2 = second.events.some(isReceipt(2))
    console.log(
      `  # killed after offering round 2 (offer ${String(offered2.status)}, receipt ${seen2 ? 'already seen' : 'not seen'})`,
    )

    // Third life: the published update is not trained again; round 2 settles with it, 3 follows.
    const third = spawnNodeProcess(t, home, bootstrap)
    const third0 = await third.waitFor((e) => e.event === 'started', 'the second restart')
    assert.equal(third0.key, key)
    assert.equal(third0.recovered, null)
    const held = (third0.receipts as Array<{ round: number }>).map((r) => r.round)
    assert.deepEqual(held.slice(0, 2), [0, 1])
    await third.waitFor(isReceipt(3), 'the receipt of round 3', 60_000)
    assert.equal(
      third.events.filter((e) => e.event === 'progress' && e.round === 2).length,
      0,
      'round 2 was trained again after its update was published',
    )
    const reoffer = third.events.find((e) => e.event === 'offer' && e.round === 2)
    console.log(
      `  # round 2 after the restart: ${reoffer ? `re-offered (${String(reoffer.status)})` : 'already closed with the update'}`,
    )
    third.child.kill('SIGTERM')
    const stopped = await third.exited
    assert.equal(stopped.code, 0, third.output().slice(-3000))
    assert.ok(third.events.some((e) => e.event === 'stopped'))

    const watched = await watcher.stop()
    console.log(
      `  # node-state.json read ${watched.reads} times (${watched.missing} before it existed), ${watched.bad.length} bad`,
    )
    assert.deepEqual(watched.bad, [], 'node-state.json was seen half-written or invalid')
    assert.ok(watched.reads > 50, `only ${watched.reads} reads of node-state.json`)

    // The node's local history after a clean stop, and the ledger's: one contribution per round,
    // and round 2's is the update published before the second kill.
    const final = NodeStateFile.parse(JSON.parse(await readFile(statePath, 'utf8')))
    assert.deepEqual(
      final.receipts.map((r) => r.round),
      [0, 1, 2, 3],
    )
    const ledger = await readLedger(h.ledger.core, { wait: false })
    for (const round of [0, 1, 2, 3]) {
      const mine = ledger.rounds[round]!.receipt!.contributions.filter((c) => c.contributor === key)
      assert.equal(mine.length, 1, `round ${round}: ${mine.length} contributions from the node`)
      if (round === 2) assert.equal(mine[0]!.updateHash, offered2.hash)
    }
    console.log(`  # done in ${Date.now() - started} ms`)
  })
})
