/**
 * A host and four contributors on a loopback testnet run three DiLoCo rounds end to end: real
 * ledger replication, real training (cpu backend, one thread each), real update cores.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RoundClosedEvent } from '../../../core/host/host.js'
import { readLedger } from '../../../core/ledger/reader.js'
import { startTestHost, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

describe('project host: rounds over the swarm', () => {
  it('four contributors, three rounds: loss falls, every update accepted and credited', async (t) => {
    const started = Date.now()
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, { host: { rounds: 3 } })
    const closed: RoundClosedEvent[] = []
    h.host.on('round-closed', (e) => {
      closed.push(e)
      t.diagnostic(
        `round ${e.round}: loss ${e.lossBefore.toFixed(4)} → ${e.lossAfter.toFixed(4)}, ` +
          `${e.accepted} accepted, ${e.ms} ms`,
      )
    })
    await h.host.start()
    // A second start() is a wrong state, not a bad argument.
    await assert.rejects(h.host.start(), { code: 'HOST_ALREADY_RUNNING' })
    const contributors = await Promise.all(
      [0, 1, 2, 3].map(() => testContributor(t, net, h.project)),
    )
    await Promise.all(contributors.map((c) => c.participant.start()))
    await h.host.finished()
    t.diagnostic(`three rounds in ${Date.now() - started} ms`)

    assert.equal(closed.length, 3)
    assert.ok(
      closed[2]!.lossAfter < closed[0]!.lossBefore,
      `loss ${closed[0]!.lossBefore} → ${closed[2]!.lossAfter}`,
    )
    const state = await readLedger(h.ledger.core, { wait: false })
    assert.equal(state.rounds.filter((r) => r.receipt).length, 3)
    for (const e of closed) {
      assert.equal(e.accepted, 4, JSON.stringify(e.contributions))
      assert.equal(e.rejected, 0)
      for (const c of contributors) assert.ok(e.credits[c.keyPair.publicKey.toString('hex')]! > 0)
    }
    // Each contributor holds its three receipts (from the replicated ledger).
    await waitUntil(
      () => contributors.every((c) => c.participant.receipts().length === 3),
      'every contributor to hold three receipts',
      15_000,
    )
    for (const c of contributors) {
      const receipts = c.participant.receipts()
      assert.deepEqual(
        receipts.map((r) => r.round),
        [0, 1, 2],
      )
      assert.ok(receipts.every((r) => r.accepted && r.credits > 0))
      assert.equal(c.participant.offerFor(2)?.status, 'accepted')
    }
  })
})
