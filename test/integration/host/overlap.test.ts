/**
 * One-step-delay overlap (recipe.outer.overlap, core/host/rebase.ts, core/node/participant/
 * overlap.ts) on a loopback testnet: a real host and two contributors run several rounds; each
 * contributor trains round r + 1 from checkpoint r as soon as it has offered round r, the host
 * re-bases those updates and records each base, and a fresh verifier replays every round clean.
 * Then a round closed by hand with a receipt whose recorded base was altered: verify names it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { roundBases } from '../../../core/host/rebase.js'
import { computeRound, roundHistory, type RoundCandidate } from '../../../core/host/round.js'
import { assignmentSeed } from '../../../core/host/round-loop.js'
import { roundValidationBatch } from '../../../core/host/validation.js'
import { verifyLedger } from '../../../core/host/verify.js'
import { roundSamples } from '../../../core/ledger/manifest.js'
import { fetchUpdate, MAX_UPDATE_BYTES } from '../../../core/ledger/updates.js'
import { defer } from '../../support/data.js'
import { verifierStore } from '../../support/verifier.js'
import { startTestHost, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const ROUNDS = 3
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('one-step-delay overlap', () => {
  it('contributors train ahead, the host re-bases and records bases, verify replays clean and catches a forged base', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      recipe: {
        outer: { overlap: 'one-step-delay' },
        minUpdates: 2,
        maxUpdates: 2,
        roundDeadlineSec: 120,
      },
      host: { rounds: ROUNDS },
    })
    const cs = [await testContributor(t, net, h.project), await testContributor(t, net, h.project)]
    const early: number[] = []
    for (const c of cs)
      c.participant.on('state', (_s, d) => {
        const m = /^round (\d+): trained early/.exec(d)
        if (m) early.push(Number(m[1]))
      })
    await h.host.start()
    await Promise.all(cs.map((c) => c.participant.start()))
    await h.host.finished()

    const state = h.ledger.state
    const contributions = state.rounds.slice(0, ROUNDS).map((r) => r.receipt!.contributions)
    for (const [r, list] of contributions.entries()) {
      assert.equal(list.length, 2, `round ${r}: both contributors`)
      for (const c of list) {
        assert.equal(c.accepted, true, `round ${r}: ${c.reason}`)
        assert.ok(c.baseRound === r || c.baseRound === r - 1, `round ${r}: base ${c.baseRound}`)
      }
    }
    assert.ok(
      contributions.flat().some((c, i) => c.baseRound !== Math.floor(i / 2)),
      'no update was trained early (every base is its own round)',
    )
    assert.ok(early.length > 0, 'no contributor reported training early')
    // The model still learns through re-based rounds.
    const losses = contributions.map((list) => list[0]!.score!.lossBefore)
    assert.ok(Number.isFinite(losses.at(-1)!))

    // Round 3, closed by hand: the contributors offer what they trained (early, from checkpoint
    // 2, or once it opened); the receipt records a base other than the one their headers name.
    const opened = Date.now()
    await h.host.stop()
    const ck = state.rounds[ROUNDS]!.checkpoint.contentHash
    await h.ledger.openRound({
      openedAt: opened,
      deadline: opened + 120_000,
      assignmentSeed: assignmentSeed(h.project, ROUNDS, ck),
    })
    await waitUntil(
      () => cs.every((c) => c.participant.offerFor(ROUNDS) !== undefined),
      'round 3 offers',
      60_000,
    )
    const v = await verifierStore(t, h, cs)
    const candidates: RoundCandidate[] = []
    for (const c of cs) {
      const o = c.participant.offerFor(ROUNDS)!.offer
      const core = v.store.get({ key: Buffer.from(o.core) })
      defer(t, () => core.close())
      const got = await fetchUpdate(core, {
        start: o.start,
        length: o.length,
        byteLength: o.byteLength,
        expectedHash: o.hash,
        project: h.project,
        round: ROUNDS,
        maxBytes: MAX_UPDATE_BYTES,
        timeout: 10_000,
      })
      candidates.push({
        contributor: hex(c.keyPair.publicKey),
        updateCore: hex(o.core),
        updateIndex: o.start,
        updateHash: hex(o.hash),
        samples: roundSamples(h.ledger.manifest),
        encoded: got.encoded,
        receivedAt: Date.now(),
        signatureValid: true,
        startedFrom: got.header.checkpointHash,
      })
    }
    const now = h.ledger.state
    const history = roundHistory(now, ROUNDS)
    const out = await computeRound({
      manifest: h.ledger.manifest,
      round: ROUNDS,
      weights: await h.ledger.weights(ROUNDS),
      momentum: await h.ledger.momentum(ROUNDS),
      candidates,
      seenBefore: history.seenBefore,
      reputation: history.reputation,
      validation: await roundValidationBatch(h.dataset, h.ledger.manifest),
      deadline: now.rounds[ROUNDS]!.open!.deadline,
      closedAt: Date.now(),
      bases: await roundBases(now, ROUNDS, (r) => h.ledger.weights(r)),
    })
    const forged = out.receipt.contributions[0]!
    assert.equal(forged.accepted, true)
    const truth = forged.baseRound!
    forged.baseRound = truth === ROUNDS ? ROUNDS - 1 : ROUNDS
    await h.ledger.closeRound(out.receipt, out.weights, out.momentum)

    const report = await verifyLedger({ ...v, timeoutMs: 10_000 })
    const problems = report.rounds.map((r) => r.problems.map((p) => p.code))
    assert.deepEqual(problems.slice(0, ROUNDS), [[], [], []], JSON.stringify(report.rounds))
    assert.deepEqual(problems[ROUNDS], ['VERIFY_RECEIPT_MISMATCH'])
    assert.match(
      report.rounds[ROUNDS]!.problems[0]!.message,
      new RegExp(
        `records base checkpoint ${forged.baseRound}, the update was trained from ${truth}`,
      ),
    )
    assert.equal(report.ok, false)
  })

  it('asks the node gate for the early round: a paused contributor does not train ahead', async (t) => {
    const net = await loopbackTestnet(t)
    // Two updates needed and one contributor: round 0 stays open after its offer.
    const h = await startTestHost(t, net, {
      recipe: { outer: { overlap: 'one-step-delay' }, minUpdates: 2, maxUpdates: 2 },
    })
    let paused = false
    const asked: number[] = []
    const c = await testContributor(t, net, h.project, {
      gate: (round) => {
        asked.push(round)
        return !paused
      },
    })
    const details: string[] = []
    c.participant.on('state', (_s, d) => details.push(d))
    const trained: number[] = []
    c.participant.on('trained', (x) => trained.push(x.round))
    c.participant.on('progress', (p) => {
      if (p.round === 0) paused = true // paused while round 0 trains
    })
    await h.host.start()
    await c.participant.start()
    await waitUntil(() => c.participant.offerFor(0) !== undefined && asked.includes(1), 'gate(1)')
    await new Promise((r) => setTimeout(r, 1500))
    assert.deepEqual(trained, [0], 'trained round 1 while paused')
    assert.ok(
      details.includes("round 1 is open; waiting for this node's turn"),
      details.join(' | '),
    )
    // Resumed: it trains round 1 early, from checkpoint 0, and holds it (round 0 is still open).
    paused = false
    c.participant.poke()
    await waitUntil(
      () => details.includes('round 1: trained early; waiting for it to open'),
      'early',
    )
    assert.deepEqual(trained, [0, 1])
    assert.equal(h.ledger.state.rounds.length, 1, 'round 0 is still open')
    assert.equal(c.participant.offerFor(1), undefined, 'offered before its round opened')
  })
})
