/**
 * Crash safety of the project host: the host runs in its own process with its state on disk; it
 * is killed with SIGKILL in the middle of round 0, after it acknowledged some offers, and started
 * again. The round must resume with the same deadline and close with every update, none lost and
 * none credited twice, and the next round must run normally.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { readLedger } from '../../core/ledger/reader.js'
import { tempDir } from '../support/data.js'
import {
  prepareHostState,
  spawnHostProcess,
  testContributor,
  type HostProcess,
} from '../support/host-fixtures.js'
import { loopbackTestnet } from '../support/swarm.js'
import { waitUntil } from '../support/wait.js'

const received = (h: HostProcess, round: number) =>
  h.events.filter((e) => e.event === 'offer' && e.status === 'received' && e.round === round)

describe('project host: kill -9 mid-round', () => {
  it('resumes the open round, loses no accepted update and grants no credit twice', async (t) => {
    const started = Date.now()
    const net = await loopbackTestnet(t)
    const dir = await tempDir(t, 'tandem-host-kill-')
    const { project } = await prepareHostState(dir, {
      roundDeadlineSec: 120,
      minUpdates: 4,
      maxUpdates: 4,
    })
    const bootstrap = net.bootstrap[0]!
    const first = spawnHostProcess(t, dir, bootstrap)
    const opened = await first.waitFor((e) => e.event === 'round-open', 'round 0 to open')

    const contributors = await Promise.all([0, 1, 2, 3].map(() => testContributor(t, net, project)))
    // Two train now and two after the kill: round 0 (4 updates) cannot close before it.
    await Promise.all(contributors.slice(0, 2).map((c) => c.participant.start()))
    await waitUntil(() => received(first, 0).length >= 2, 'two offers received', 60_000)
    first.child.kill('SIGKILL')
    await first.exited
    // (They may have to wait for the restarted host to read the ledger: not awaited here.)
    const lateStarts = Promise.all(contributors.slice(2).map((c) => c.participant.start()))
    const before = new Set(received(first, 0).map((e) => e.contributor as string))
    t.diagnostic(`killed after ${before.size} offer(s) received, ${Date.now() - started} ms in`)
    assert.equal(
      first.events.filter((e) => e.event === 'round-closed').length,
      0,
      'round 0 must still be open when the host is killed',
    )

    const second = spawnHostProcess(t, dir, bootstrap)
    await lateStarts
    const resumed = await second.waitFor((e) => e.event === 'round-open', 'round 0 to resume')
    assert.equal(resumed.round, 0)
    assert.equal(resumed.resumed, true)
    assert.equal(resumed.deadline, opened.deadline, 'the same deadline as in the ledger')
    const closed0 = await second.waitFor(
      (e) => e.event === 'round-closed' && e.round === 0,
      'round 0 to close',
    )
    assert.equal(closed0.accepted, 4, JSON.stringify(closed0))
    await second.waitFor((e) => e.event === 'round-closed' && e.round === 1, 'round 1 to close')
    // The contributors hold their receipts, read from the replicated ledger.
    await waitUntil(
      () => contributors.every((c) => c.participant.receipts().length === 2),
      'contributors to hold two receipts',
      15_000,
    )
    second.child.kill('SIGTERM')
    assert.equal((await second.exited).code, 0, second.output())
    t.diagnostic(`done in ${Date.now() - started} ms`)

    const store = await DatasetStore.open({ dataDir: dir })
    try {
      const core = store.corestore.get({ key: Buffer.from(project, 'hex') })
      await core.ready()
      const state = await readLedger(core, { wait: false })
      await core.close()
      const receipts = state.rounds.flatMap((r) => (r.receipt ? [r.receipt] : []))
      assert.deepEqual(
        receipts.map((r) => r.round),
        [0, 1],
        'exactly one receipt per closed round',
      )
      const r0 = receipts[0]!.contributions
      const keys = contributors.map((c) => c.keyPair.publicKey.toString('hex'))
      assert.deepEqual(r0.map((c) => c.contributor).sort(), [...keys].sort(), 'each one once')
      assert.ok(r0.every((c) => c.accepted && c.credits > 0))
      for (const who of before)
        assert.ok(
          r0.some((c) => c.contributor === who && c.accepted),
          `${who} was lost`,
        )
    } finally {
      await store.close()
    }
  })
})
