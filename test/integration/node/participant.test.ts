/**
 * The contributor side under faults: the ledger not there yet, the host going offline between
 * training and offering, the participant's own restart (it re-offers what it published instead of
 * training again), a round that closes while it trains, and stop() in the middle of training.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ProjectHost } from '../../../core/host/host.js'
import { Participant, type ParticipantState } from '../../../core/node/participant/participant.js'
import { saveResidual } from '../../../core/node/participant/residual-file.js'
import { tempDir } from '../../support/data.js'
import { startTestHost, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

function states(p: Participant): Array<[ParticipantState, string]> {
  const seen: Array<[ParticipantState, string]> = []
  p.on('state', (s, d) => seen.push([s, d]))
  return seen
}

describe('participant', () => {
  it('waits for the ledger, outlasts an offline host and its own restart without retraining', async (t) => {
    const net = await loopbackTestnet(t)
    // A long deadline: the throttled contributor below must not miss it on a slow machine.
    const h = await startTestHost(t, net, {
      recipe: { minUpdates: 1, maxUpdates: 1, roundDeadlineSec: 300 },
    })
    const stateDir = await tempDir(t)
    // Throttled (it rests 19× each step’s time), so its 16 steps outlast the host's shutdown below.
    const c = await testContributor(t, net, h.project, {
      stateDir,
      engineOptions: { backend: 'cpu', maxThreads: 1, dutyCycle: 0.05 },
    })
    const seen1 = states(c.participant)
    const starting = c.participant.start()
    // No host on the swarm yet: nobody serves the ledger.
    await waitUntil(() => c.participant.state === 'waiting-ledger', 'waiting-ledger')
    await h.host.start()
    await starting

    // The host goes away while the participant trains.
    await new Promise<void>((resolve) => c.participant.once('progress', () => resolve()))
    await h.host.stop()
    await h.node.destroy()
    await waitUntil(() => c.participant.state === 'host-offline', 'host-offline', 30_000)
    const published = c.participant.offerFor(0)!
    assert.equal(published.status, 'sent')
    assert.equal(published.sentAt, null, 'never reached the host')
    assert.ok(seen1.some(([s]) => s === 'training'))

    // The participant restarts (same node, store and key): it finds its update and does not retrain,
    // and carries on with the error-feedback residual int8 left over from that update.
    const residual = c.participant.residual()!
    assert.ok(
      residual.some((v) => v !== 0),
      'int8 compression left no residual',
    )
    await c.participant.stop()
    const restart = () => {
      const p = new Participant({
        node: c.node,
        store: c.store,
        keyPair: c.keyPair,
        project: h.project,
        engineOptions: { backend: 'cpu', maxThreads: 1 },
        offerRetryMs: 1000,
        stateDir,
      })
      const warnings: string[] = []
      p.on('warning', (err) => warnings.push((err as { code?: string }).code ?? String(err)))
      t.after(() => p.stop())
      return { p, warnings }
    }
    const { p: again, warnings } = restart()
    let progress = 0
    again.on('progress', () => progress++)
    await again.start()
    assert.equal(again.offerFor(0)?.hash, published.hash)
    assert.equal(again.state, 'host-offline')
    assert.deepEqual(again.residual(), residual)
    assert.deepEqual(warnings, [])

    // The host comes back with the same key and ledger: round 0 resumes and takes the offer.
    const node = net.node({ keyPair: h.keyPair, corestore: h.store.corestore, roles: ['host'] })
    const host = new ProjectHost({
      node,
      store: h.store.corestore,
      keyPair: h.keyPair,
      ledger: h.ledger,
      dataset: h.dataset,
      rounds: 1,
    })
    const resumed = new Promise<boolean>((resolve) =>
      host.once('round-open', (e) => resolve(e.resumed)),
    )
    await host.start()
    assert.equal(await resumed, true)
    await host.finished()
    await waitUntil(() => again.receipts().length === 1, 'the receipt', 15_000)
    assert.equal(again.receipts()[0]!.updateHash, published.hash)
    assert.equal(again.receipts()[0]!.accepted, true)
    assert.equal(progress, 0, 'the restarted participant trained again')
    await host.stop()

    // A residual that does not follow the last published update (a crash between publishing and
    // saving) was already sent with that update: the next run starts from zero and says why.
    await again.stop()
    const path = join(stateDir, `residual-${h.project}.bin`)
    await saveResidual(path, { updateHash: '00'.repeat(32), residual })
    const third = restart()
    await third.p.start()
    assert.equal(third.p.residual(), null)
    assert.deepEqual(third.warnings, ['STATE_STALE'])
  })

  it('abandons a round that closes while it trains; stop() ends training at once', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, { recipe: { minUpdates: 1, maxUpdates: 1 } })
    await h.host.start()
    const fast = await testContributor(t, net, h.project)
    // A throttled contributor: it sleeps 199× each step's time after the step.
    const slow = await testContributor(t, net, h.project, {
      engineOptions: { backend: 'cpu', maxThreads: 1, dutyCycle: 0.005 },
    })
    const slowStates = states(slow.participant)
    const closed: number[] = []
    h.host.on('round-closed', (e) => closed.push(e.round))
    await Promise.all([fast.participant.start(), slow.participant.start()])

    await waitUntil(() => closed.includes(0), 'round 0 to close', 30_000)
    await waitUntil(
      () => slowStates.some(([s, d]) => s === 'idle' && /round 0 closed while training/.test(d)),
      'the slow participant to abandon round 0',
      15_000,
    )
    assert.equal(slow.participant.offerFor(0), undefined)

    // Round 1: stop the slow one in the middle of its training.
    await new Promise<void>((resolve) => {
      const onProgress = (p: { round: number }) => {
        if (p.round !== 1) return
        slow.participant.off('progress', onProgress)
        resolve()
      }
      slow.participant.on('progress', onProgress)
    })
    const t0 = Date.now()
    await slow.participant.stop()
    const ms = Date.now() - t0
    t.diagnostic(`stop() took ${ms} ms`)
    assert.ok(ms < 3000, `stop() took ${ms} ms`)
    assert.equal(slow.participant.state, 'stopped')
    assert.equal(slow.participant.offerFor(1), undefined)
  })

  it('a checkpoint that cannot arrive before the deadline is waited for only until then', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      recipe: { minUpdates: 1, maxUpdates: 1, roundDeadlineSec: 5 },
    })
    await h.host.start()
    // Its turn comes only when the test says (as a node's scheduler would grant it).
    let open = false
    const c = await testContributor(t, net, h.project, {
      ledgerTimeoutMs: 60_000,
      gate: () => open,
    })
    const seen = states(c.participant)
    await c.participant.start()
    await waitUntil(() => c.participant.ledgerState?.rounds[0]?.open !== undefined, 'round 0')
    const deadline = c.participant.ledgerState!.rounds[0]!.open!.deadline
    // The host vanishes with round 0 open; then the contributor's turn comes.
    await h.host.stop()
    await h.node.destroy()
    open = true
    c.participant.poke()
    await waitUntil(() => seen.some(([, d]) => /fetching checkpoint/.test(d)), 'its turn')
    await waitUntil(
      () => seen.some(([s, d]) => s === 'idle' && /past its deadline/.test(d)),
      'the participant to give round 0 up',
      30_000,
    )
    const late = Date.now() - deadline
    t.diagnostic(`gave the round up ${late} ms after its deadline`)
    assert.ok(late < 10_000, `held on ${late} ms past the deadline (the read timeout is 60 s)`)
    assert.equal(c.participant.status().training, null)
  })
})
