/**
 * Compressed outer updates on a loopback testnet (recipe.outerUpdates, docs/ledger.md "Outer
 * updates"): two contributors follow rounds by downloading U_r alone (never a later checkpoint
 * file), a newcomer joins mid-run from the last full checkpoint plus the updates since, `tandem
 * verify`'s replay finds every round clean, and a round whose U_r the host forged (consistent with
 * the checkpoint hash it names, so readers accept it) is caught by the replay with coded errors.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { applyOuterUpdate } from '../../../core/engine/compress/outer-update.js'
import { publishedCheckpoint } from '../../../core/host/outer-update.js'
import { verifyFresh } from '../../support/verifier.js'
import { startTestHost, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'

const ROUNDS = 4

describe('compressed outer updates', () => {
  it('contributors follow by U_r, a newcomer joins mid-run, verify replays them and catches a forged U_r', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      recipe: {
        innerSteps: 8,
        minUpdates: 2,
        maxUpdates: 2,
        outerUpdates: { fullCheckpointEvery: 2 },
      },
      host: { rounds: ROUNDS },
    })
    // A trains rounds 0–2, B all four, the newcomer C only round 3 (it joins during round 2).
    const a = await testContributor(t, net, h.project, { gate: (r) => r < 3 })
    const b = await testContributor(t, net, h.project)
    const c = await testContributor(t, net, h.project, { gate: (r) => r >= 3 })
    h.host.on('round-closed', (e) => {
      if (e.round === 1) void c.participant.start()
    })
    await h.host.start()
    await Promise.all([a.participant.start(), b.participant.start()])
    await h.host.finished()

    const state = h.ledger.state
    assert.deepEqual(
      state.rounds.map((r) => ['derived' in r.checkpoint, Boolean(r.outerUpdate)]),
      [
        [false, false],
        [true, true],
        [false, true],
        [true, true],
        [false, true],
      ],
    )
    const round3 = state.rounds[3]!.receipt!.contributions.map((x) => x.contributor).sort()
    assert.deepEqual(round3, [b, c].map((x) => x.keyPair.publicKey.toString('hex')).sort())

    // Which ledger blocks each contributor downloaded (hypercore fetches only what is asked for).
    const has = async (who: typeof a, index: number) => {
      const core = who.store.get({ key: Buffer.from(h.project, 'hex') })
      await core.ready()
      try {
        return await core.has(index)
      } finally {
        await core.close()
      }
    }
    const ck2 = state.rounds[2]!.checkpoint.index + 1
    const u1 = state.rounds[2]!.outerUpdate!.index + 1
    const u2 = state.rounds[3]!.outerUpdate!.index + 1
    const residual2 = state.rounds[2]!.outerResidual!.index + 1
    assert.equal(await has(a, u1), true, 'A applied U_1')
    assert.equal(await has(a, ck2), false, 'A, holding checkpoint 1, downloaded checkpoint 2')
    assert.equal(await has(b, ck2), false, 'B, holding checkpoint 1, downloaded checkpoint 2')
    assert.equal(await has(b, residual2), false, 'a contributor downloaded the host residual')
    assert.equal(await has(c, ck2), true, 'the newcomer starts from the full checkpoint 2')
    assert.equal(await has(c, u2), true, 'the newcomer applied U_2')

    // A fresh verifier replays every round: U_r, the residual and each checkpoint bit for bit.
    const verify = () => verifyFresh(t, h, [a, b, c])
    const clean = await verify()
    assert.deepEqual(
      clean.rounds.map((r) => [r.round, r.ok, r.replayed, r.problems.map((p) => p.code)]),
      [0, 1, 2, 3].map((r) => [r, true, true, []]),
    )
    assert.ok(clean.ok)

    // The host forges round 4: an empty round whose U_4 has one int8 value changed, with the
    // checkpoint hash of what that U_4 gives, so contributors applying it would accept it.
    await Promise.all([a, b, c].map((x) => x.participant.stop()))
    await h.ledger.openRound({
      openedAt: Date.now(),
      deadline: Date.now() + 1,
      assignmentSeed: '5'.repeat(64),
    })
    const theta = await h.ledger.weights(4)
    const honest = publishedCheckpoint(
      h.ledger.manifest,
      theta,
      theta,
      await h.ledger.outerResidual(4),
    )
    const forged = Uint8Array.from(honest.outerUpdate!.bytes)
    forged[forged.byteLength - 1]! ^= 0x10
    await h.ledger.closeRound(
      { closedAt: Date.now() + 2, rule: h.ledger.manifest.aggregation.rule, contributions: [] },
      applyOuterUpdate(theta, forged),
      await h.ledger.momentum(4),
      { bytes: forged, residual: honest.outerUpdate!.residual },
    )
    const report = await verify()
    assert.equal(report.ok, false)
    assert.deepEqual(
      report.rounds.map((r) => [r.round, r.ok]),
      [0, 1, 2, 3, 4].map((r) => [r, r < 4]),
    )
    assert.deepEqual(report.rounds[4]!.problems.map((p) => p.code).sort(), [
      'VERIFY_CHECKPOINT_MISMATCH',
      'VERIFY_OUTER_UPDATE_MISMATCH',
    ])
  })
})
