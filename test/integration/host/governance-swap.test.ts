/**
 * Dataset and model amendments on a loopback testnet (docs/governance.md, "Dataset and model
 * amendments"): a real host and real contributors (cpu backend). In round 1 the host proposes a
 * second dataset (its content pinned) and a wider model started from a seed; both pass and take
 * effect at round 2: the enact batch carries the new model's starting checkpoint, the contributors
 * fetch the new dataset and train the new model, the host scores on the new dataset's validation
 * split, and `verifyLedger` replays across the boundary. The contributor that voted against the new
 * data is paused until it accepts it. A host that starts the approved model from other weights
 * than the proposal's seed is caught (VERIFY_UNAPPROVED_CHANGE).
 */
import assert from 'node:assert/strict'
import { before, describe, it, type TestContext } from 'node:test'
import { shardBlock } from '../../../core/data/dataset.js'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { parameterCount } from '../../../core/host/round.js'
import { verifyLedger } from '../../../core/host/verify.js'
import type { VoteChoice } from '../../../core/ledger/amendments.js'
import { effectiveManifest, tallies, termsAt } from '../../../core/ledger/governance.js'
import { readCheckpoint } from '../../../core/ledger/reader.js'
import { boundaryWeights } from '../../../core/ledger/swap-changes.js'
import {
  CLASSES,
  FEATURES,
  learnableHeader,
  learnableShards,
  type TestContributor,
  type TestHost,
} from '../../support/host-fixtures.js'
import { assertVerifiesClean, governedProject } from '../../support/governance-fixtures.js'
import { waitUntil } from '../../support/wait.js'

const wider = parseSpec({
  type: 'mlp',
  inputSize: FEATURES,
  hidden: [24],
  classes: CLASSES,
  activation: 'tanh',
})

/** A second dataset of the same layout (other records), written into the host's store. */
async function secondDataset(h: TestHost): Promise<{ key: string; contentHash: string }> {
  const shards = learnableShards(1200, 100, 11)
  const header = { ...learnableHeader(shards, 1200, 100), name: 'argmax-12 b' }
  async function* batches() {
    yield shards
  }
  const key = await h.store.create(header, batches())
  return { key, contentHash: header.contentHash }
}

const setup = (t: TestContext, n: number, rounds: number) => governedProject(t, n, rounds, 10)

async function vote(c: TestContributor, proposal: number, choice: VoteChoice) {
  const answer = await c.participant.vote(proposal, choice)
  assert.deepEqual(
    { status: answer.status, reason: answer.reason },
    { status: 'accepted', reason: '' },
    `vote on ${proposal}`,
  )
  assert.ok(answer.receipted, `vote on ${proposal}: the host's receipt`)
}

async function seeProposals(contributors: TestContributor[], n: number) {
  await waitUntil(
    () => contributors.every((x) => x.participant.ledgerState?.governance?.proposals.length === n),
    'the contributors to see the proposals',
    20_000,
  )
}

const hexOf = (c: TestContributor) => c.keyPair.publicKey.toString('hex')

describe('dataset and model amendments on a loopback testnet', () => {
  before(async () => {
    await selectBackend('cpu')
  })

  it('swaps the dataset and the model at a boundary, pauses the dissenter, and verifies', async (t) => {
    const { h, contributors, release } = await setup(t, 3, 4)
    const [a, b, c] = contributors as [TestContributor, TestContributor, TestContributor]
    const data = await secondDataset(h)
    await waitUntil(() => h.ledger.round >= 1, 'round 0 to close', 60_000)

    // A pinned hash that does not match is refused before any vote.
    await assert.rejects(
      h.host.propose('Wrong pin', {
        kind: 'dataset',
        dataset: { key: data.key, contentHash: 'ee'.repeat(32) },
      }),
      { code: 'BAD_ARGUMENT' },
    )
    const pD = await h.host.propose('Train on argmax-12 b', { kind: 'dataset', dataset: data })
    const pM = await h.host.propose('A wider hidden layer', {
      kind: 'model',
      model: wider,
      init: { from: 'seed', seed: 5 },
    })
    await seeProposals(contributors, 2)
    await vote(a, pD, 'yes')
    await vote(b, pD, 'yes')
    await vote(c, pD, 'no')
    for (const x of contributors) await vote(x, pM, 'yes')
    release()

    await waitUntil(() => Boolean(h.ledger.state.rounds[2]?.open), 'round 2 to open', 60_000)
    let state = h.ledger.state
    assert.deepEqual(
      tallies(state).map((x) => [x.status, x.changesTerms]),
      [
        ['passed', true],
        ['passed', false],
      ],
    )
    assert.deepEqual(state.rounds[2]!.enacted, [pD, pM])
    assert.equal(effectiveManifest(state, 1).dataset.key, state.manifest.dataset.key)
    assert.equal(effectiveManifest(state, 2).dataset.key, data.key)
    assert.deepEqual(effectiveManifest(state, 2).model, wider)
    // Round 2 opens on the new model's start; what round 1's close wrote is kept as superseded.
    const start = await readCheckpoint(h.ledger.core, state, 2)
    assert.deepEqual(
      start.weights,
      boundaryWeights({ model: wider, init: { from: 'seed', seed: 5 } }),
    )
    assert.equal(state.rounds[2]!.open!.checkpointHash, start.contentHash)
    assert.equal(
      state.rounds[1]!.receipt!.checkpointOut,
      state.rounds[2]!.superseded!.checkpoint.contentHash,
    )

    // C voted against the new data: paused over the terms, then accepts them.
    await waitUntil(
      () => /terms changed/.test(c.participant.status().detail),
      'C to pause over the new dataset',
      30_000,
    )
    assert.equal(c.participant.termsStatus()!.paused, true)
    assert.equal(a.participant.termsStatus()!.paused, false)
    assert.equal(c.participant.acceptTerms(), termsAt(state, 2))

    await h.host.finished()
    state = h.ledger.state
    // Rounds 2 and 3 trained the new model on the new data: updates of the new size were accepted,
    // and the contributors fetched shards of the new dataset.
    for (const r of [2, 3]) {
      const accepted = state.rounds[r]!.receipt!.contributions.filter((x) => x.accepted)
      assert.ok(accepted.length >= 2, `round ${r}: ${accepted.length} accepted`)
    }
    assert.ok(
      state.rounds[3]!.receipt!.contributions.some((x) => x.contributor === hexOf(c) && x.accepted),
      'C trains again after accepting',
    )
    const ck4 = await readCheckpoint(h.ledger.core, state, 4)
    assert.equal(ck4.weights.length, parameterCount({ model: wider }))
    for (const x of contributors) {
      const core = x.store.get({ key: Buffer.from(data.key, 'hex') })
      await core.ready()
      let have = 0
      for (let s = 0; s < 12; s++) if (await core.has(shardBlock(s))) have++
      await core.close()
      assert.ok(have > 0, `${hexOf(x).slice(0, 8)} holds shards of the new dataset`)
    }

    // Verify replays round 1 (old model, old data) against the superseded checkpoint, rounds 2
    // and 3 with the new model on the new dataset's validation split, and checks the boundary.
    const report = await assertVerifiesClean(h)
    assert.equal(report.rounds.length, 4)
  })

  it('verify catches a host that starts the approved model from other weights', async (t) => {
    const { h, contributors, release } = await setup(t, 2, 3)
    const [a, b] = contributors as [TestContributor, TestContributor]
    await waitUntil(() => h.ledger.round >= 1, 'round 0 to close', 60_000)
    const p = await h.host.propose('A wider hidden layer', {
      kind: 'model',
      model: wider,
      init: { from: 'seed', seed: 5 },
    })
    await seeProposals(contributors, 1)
    await vote(a, p, 'yes')
    await vote(b, p, 'yes')
    // The host swaps in weights of its own (here: the approved ones, doubled).
    const open = h.ledger.openRound.bind(h.ledger)
    h.ledger.openRound = (o) =>
      open(h.ledger.round === 2 ? { ...o, boundary: (w) => w.map((x) => 2 * x) } : o)
    release()
    await h.host.finished()
    const state = h.ledger.state
    assert.deepEqual(state.rounds[2]!.enacted, [p])
    assert.ok(state.rounds[2]!.receipt!.contributions.some((x) => x.accepted))
    const report = await verifyLedger({
      ledger: h.ledger.core,
      store: h.store.corestore,
      dataset: h.dataset,
      timeoutMs: 10_000,
    })
    assert.equal(report.ok, false)
    const codes = report.rounds.map((r) => r.problems.map((x) => x.code))
    assert.deepEqual(codes, [[], [], ['VERIFY_UNAPPROVED_CHANGE']])
    assert.match(report.rounds[2]!.problems[0]!.message, /approved seed 5/)
  })
})
