/**
 * Amendments by consent on a loopback testnet (docs/governance.md): a real host with a charter and
 * three real contributors (training on the cpu backend). In round 1 the host proposes three
 * changes; the contributors vote with signed votes over the wire and the host records them in the
 * ledger. Two pass and take effect at the next boundary (round 2), one fails and never applies; the
 * contributor outvoted on a change of terms is paused until it accepts them. Forged, duplicate,
 * ineligible and late votes are refused. `verifyLedger` passes the honest run and catches a host
 * that applies a change that did not pass.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { verifyLedger } from '../../../core/host/verify.js'
import { signVote, voteRef, voteToWire, type VoteChoice } from '../../../core/ledger/amendments.js'
import { termsHash } from '../../../core/ledger/charter.js'
import { effectiveManifest, tallies } from '../../../core/ledger/governance.js'
import { readCheckpoint, readLedger } from '../../../core/ledger/reader.js'
import { decodeSafetensors, tensorsToWeights } from '../../../core/engine/safetensors.js'
import { evaluateLoss } from '../../../core/engine/inner-loop.js'
import { roundValidationBatch } from '../../../core/host/validation.js'
import { exportModel } from '../../../core/node/model-export.js'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertVerifiesClean, governedProject as setup } from '../../support/governance-fixtures.js'
import { rawContributor, type TestContributor, type TestHost } from '../../support/host-fixtures.js'
import { waitUntil } from '../../support/wait.js'

const hexOf = (c: TestContributor) => c.keyPair.publicKey.toString('hex')

async function vote(c: TestContributor, proposal: number, choice: VoteChoice) {
  const answer = await c.participant.vote(proposal, choice)
  assert.equal(answer.status, 'accepted', `vote on ${proposal}`)
  assert.ok(answer.receipted, `a receipt for the vote on ${proposal}`)
}

async function untilRound(h: TestHost, round: number, what: string, ms = 60_000) {
  await waitUntil(() => h.ledger.round >= round, what, ms)
}

describe('governance on a loopback testnet', () => {
  before(async () => {
    await selectBackend('cpu')
  })

  it('passes, fails, pauses a dissenter until it accepts, refuses bad votes, and verifies', async (t) => {
    const { net, h, contributors, release } = await setup(t, 3, 4)
    const [a, b, c] = contributors as [TestContributor, TestContributor, TestContributor]
    await untilRound(h, 1, 'round 0 to close')
    const state0 = h.ledger.state
    assert.equal(state0.rounds[0]!.receipt!.contributions.filter((x) => x.accepted).length, 3)

    const p1 = await h.host.propose('Aggregate with the plain mean', {
      kind: 'aggregation',
      rule: 'mean',
    })
    const p2 = await h.host.propose('Weights for contributors only, CC-BY', {
      kind: 'licence',
      licence: 'CC-BY-4.0',
      download: 'contributors',
    })
    const p3 = await h.host.propose('Lower the outer learning rate', {
      kind: 'recipe',
      outer: { lr: 0.5, momentum: 0.9 },
    })
    await waitUntil(
      () =>
        contributors.every((x) => x.participant.ledgerState?.governance?.proposals.length === 3),
      'the contributors to see the proposals',
      20_000,
    )
    await vote(a, p1, 'yes')
    await vote(b, p1, 'yes')
    await vote(c, p1, 'no')
    await vote(a, p2, 'yes')
    await vote(b, p2, 'yes')
    await vote(c, p2, 'no')
    await vote(a, p3, 'no')
    await vote(b, p3, 'no')
    await vote(c, p3, 'yes')

    // Votes that must not count, sent raw so only the host's checks stand between them and the
    // ledger: a duplicate, a forgery (A's name, another key's signature), an ineligible voter.
    const d = await rawContributor(t, net, h.project)
    const proposal = h.ledger.state.governance!.proposals.find((p) => p.index === p1)!
    const send = async (v: ReturnType<typeof signVote>) => {
      d.node.send(Buffer.from(h.ledger.manifest.host, 'hex'), 'vote', voteToWire(v, h.project))
      return (await d.ack(v.proposal, voteRef(v).toString('hex'))).reason
    }
    await waitUntil(() => d.node.peer(h.keyPair.publicKey) !== undefined, 'D to reach the host')
    const fields = { proposal: p1, proposalHash: proposal.hash, choice: 'no' as const }
    assert.equal(await send(signVote(h.project, fields, a.keyPair)), 'VOTE_DUPLICATE')
    const forged = { ...signVote(h.project, fields, d.keyPair), voter: hexOf(a) }
    assert.equal(await send(forged), 'VOTE_INVALID')
    // (Ed25519 is deterministic: another choice, so its ack is told apart from the forgery's.)
    const ineligible = signVote(h.project, { ...fields, choice: 'yes' }, d.keyPair)
    assert.equal(await send(ineligible), 'VOTE_INELIGIBLE')
    const wrongText = signVote(h.project, { ...fields, proposalHash: 'ee'.repeat(32) }, b.keyPair)
    assert.equal(await send(wrongText), 'VOTE_INVALID')

    // The vote ends with round 1's receipt; the two that passed apply from round 2.
    release()
    await untilRound(h, 2, 'round 1 to close')
    await waitUntil(() => Boolean(h.ledger.state.rounds[2]?.open), 'round 2 to open', 20_000)
    let state = h.ledger.state
    assert.deepEqual(state.rounds[2]!.enacted, [p1, p2])
    assert.equal(state.rounds[1]!.enacted, undefined)
    const t0 = tallies(state)
    assert.deepEqual(
      t0.map((x) => [x.status, x.yes, x.no, x.effectiveRound]),
      [
        ['passed', 2, 1, 2],
        ['passed', 2, 1, 2],
        ['failed', 1, 2, 2],
      ],
    )
    assert.equal(t0[0]!.votes.filter((v) => v.counted).length, 3)
    assert.equal(effectiveManifest(state, 1).aggregation.rule, 'centered-clip')
    assert.equal(effectiveManifest(state, 2).aggregation.rule, 'mean')
    assert.equal(effectiveManifest(state, 2).charter!.weights.licence, 'CC-BY-4.0')
    assert.equal(
      effectiveManifest(state, 2).recipe.outer.lr,
      0.7,
      'the failed change never applies',
    )

    // Late: the vote on p1 is over.
    assert.equal(
      await send(signVote(h.project, { ...fields, choice: 'yes' }, c.keyPair)),
      'PROPOSAL_CLOSED',
    )

    // C voted against the new licence: paused in round 2, while A and B train under the new terms.
    await waitUntil(
      () => /terms changed/.test(c.participant.status().detail),
      'C to pause over the terms',
      30_000,
    )
    assert.equal(c.participant.termsStatus()!.paused, true)
    assert.equal(a.participant.termsStatus()!.paused, false)
    await untilRound(h, 3, 'round 2 to close')
    state = h.ledger.state
    const r2 = state.rounds[2]!.receipt!
    assert.equal(r2.rule, 'mean')
    assert.deepEqual(
      r2.contributions.map((x) => x.contributor).sort(),
      [hexOf(a), hexOf(b)].sort(),
      'the paused contributor did not train round 2',
    )
    assert.equal(state.rounds[1]!.receipt!.rule, 'centered-clip')

    // C accepts the new terms and trains again in round 3.
    await waitUntil(() => c.participant.ledgerState!.rounds.length >= 4, 'C to see round 3')
    assert.equal(c.participant.acceptTerms(), termsHash(effectiveManifest(state, 3).charter))
    await h.host.finished()
    state = h.ledger.state
    const r3 = state.rounds[3]!.receipt!
    assert.ok(r3.contributions.some((x) => x.contributor === hexOf(c) && x.accepted))

    // The whole ledger verifies: rounds replayed under the manifest in effect, governance sound.
    const report = await assertVerifiesClean(h)
    // And the replicated copy a contributor holds reads the same governance.
    const copy = await readLedger(h.ledger.core, { wait: false })
    assert.equal(copy.governance!.votes.length, 9)

    // The model for everyone: the charter now lets contributors download; the file loads back
    // into the engine with the very same weights (and so the same loss).
    const dir = await mkdtemp(join(tmpdir(), 'tandem-export-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const out = await exportModel({
      ledger: h.ledger.core,
      state,
      path: join(dir, 'model.safetensors'),
      me: hexOf(a),
      verify: report,
    })
    assert.equal(out.round, 4)
    const ckpt = await readCheckpoint(h.ledger.core, state, 4)
    const file = decodeSafetensors(await readFile(out.path))
    assert.equal(file.metadata['tandem.checkpoint'], ckpt.contentHash)
    assert.equal(file.metadata.license, 'CC-BY-4.0')
    const loaded = tensorsToWeights(state.manifest.model, file.tensors)
    assert.deepEqual(loaded, ckpt.weights)
    const batch = await roundValidationBatch(h.dataset, state.manifest)
    assert.equal(
      await evaluateLoss(state.manifest.model, loaded, batch),
      await evaluateLoss(state.manifest.model, ckpt.weights, batch),
    )
    const card = await readFile(out.cardPath, 'utf8')
    assert.match(card, /Licence of the weights: CC-BY-4\.0 \(download: contributors\)/)
    assert.match(card, /Rounds trained: 4; contributors with accepted work: 3/)
    assert.match(card, /verified: all 4 closed round\(s\) replay exactly/)
    // Someone without accepted work may not, under this charter.
    await assert.rejects(
      exportModel({
        ledger: h.ledger.core,
        state,
        path: join(dir, 'x.safetensors'),
        me: 'ff'.repeat(32),
        verify: null,
      }),
      { code: 'EXPORT_NOT_ALLOWED' },
    )
  })

  it('verify reports a host that applies a change that did not pass', async (t) => {
    const { h, contributors, release } = await setup(t, 2, 3)
    const [a, b] = contributors as [TestContributor, TestContributor]
    await untilRound(h, 1, 'round 0 to close')
    const p = await h.host.propose('Switch to the median', { kind: 'aggregation', rule: 'median' })
    await waitUntil(
      () =>
        contributors.every((x) => x.participant.ledgerState?.governance?.proposals.length === 1),
      'the contributors to see the proposal',
      20_000,
    )
    await vote(a, p, 'no')
    await vote(b, p, 'no')
    // The host applies it in round 2 anyway.
    const open = h.ledger.openRound.bind(h.ledger)
    h.ledger.openRound = (o) => open(h.ledger.round === 2 ? { ...o, enact: [p] } : o)
    release()
    await h.host.finished()
    const state = h.ledger.state
    assert.deepEqual(state.rounds[2]!.enacted, [p])
    assert.equal(state.rounds[2]!.receipt!.rule, 'median')
    const report = await verifyLedger({
      ledger: h.ledger.core,
      store: h.store.corestore,
      dataset: h.dataset,
      timeoutMs: 10_000,
    })
    assert.equal(report.ok, false)
    const codes = report.rounds.map((r) => r.problems.map((x) => x.code))
    assert.deepEqual(codes, [[], [], ['VERIFY_UNAPPROVED_CHANGE']])
    assert.match(report.rounds[2]!.problems[0]!.message, /failed/)
  })
})
