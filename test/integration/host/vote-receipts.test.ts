/**
 * Vote receipts on a loopback testnet (docs/governance.md, "Vote receipts"): a real host and two
 * real contributors (cpu backend). The host's first receipt to A is lost on the way, so A sends
 * its vote again and gets the receipt then. The host's ledger writer is made hostile: it answers
 * B's vote with a signed receipt but leaves the vote out of the ledger. Once the vote is decided,
 * the receipts prove it: auditVoteReceipts and verifyLedger report VERIFY_VOTE_OMITTED for B's
 * vote in the round that decided it, A's receipt checks out, and forged receipts prove nothing.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import crypto from 'hypercore-crypto'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { verifyLedger } from '../../../core/host/verify.js'
import { auditVoteReceipts } from '../../../core/ledger/vote-audit.js'
import { signVoteReceipt, type ReceiptedVote } from '../../../core/ledger/vote-receipt.js'
import type { MessageBodies, MessageKind } from '../../../core/wire/messages.js'
import { governedProject } from '../../support/governance-fixtures.js'
import type { TestContributor } from '../../support/host-fixtures.js'
import { waitUntil } from '../../support/wait.js'

const hexOf = (c: TestContributor) => c.keyPair.publicKey.toString('hex')

describe('vote receipts on a loopback testnet', () => {
  before(async () => {
    await selectBackend('cpu')
  })

  it('a receipt lost is sent again; a receipted vote the host leaves out fails verify', async (t) => {
    const { h, contributors, release } = await governedProject(t, 2, 2)
    const [a, b] = contributors as [TestContributor, TestContributor]
    await waitUntil(() => h.ledger.round >= 1, 'round 0 to close', 60_000)
    const p = await h.host.propose('Aggregate with the plain mean', {
      kind: 'aggregation',
      rule: 'mean',
    })
    await waitUntil(
      () => contributors.every((x) => x.participant.ledgerState?.governance?.proposals.length),
      'the contributors to see the proposal',
      20_000,
    )

    // The network loses the host's first receipt to A.
    const send = h.node.send.bind(h.node)
    let lost = 0
    h.node.send = <K extends MessageKind>(key: Uint8Array, kind: K, body: MessageBodies[K]) => {
      if (kind === 'voteReceipt' && lost === 0 && a.keyPair.publicKey.equals(key)) {
        lost++
        return
      }
      send(key, kind, body)
    }
    // The hostile host: B's vote is receipted but never reaches the ledger.
    const record = h.ledger.recordVote.bind(h.ledger)
    h.ledger.recordVote = (vote, check) => {
      if (vote.voter !== hexOf(b)) return record(vote, check)
      check?.(h.ledger.state)
      return Promise.resolve(h.ledger.core.length)
    }

    const va = await a.participant.vote(p, 'yes', 3_000)
    assert.equal(lost, 1, 'the first receipt to A was dropped')
    assert.equal(va.status, 'accepted')
    assert.ok(va.receipted, 'A asked again and got its receipt')
    const vb = await b.participant.vote(p, 'no', 3_000)
    assert.equal(vb.status, 'accepted')
    assert.ok(vb.receipted, 'B holds a receipt signed by the host')
    assert.equal(vb.receipted.receipt.round, 1, 'the round the vote arrived in')

    release()
    await h.host.finished()
    const state = h.ledger.state
    assert.equal(state.governance!.votes.length, 1, 'only A is in the ledger')

    // Forged receipts: signed by someone else, or the host's signature over another vote.
    const other = crypto.keyPair()
    const { v: _v, signature: _s, ...fields } = vb.receipted.receipt
    const forged: ReceiptedVote[] = [
      { vote: vb.receipted.vote, receipt: signVoteReceipt(fields, other.secretKey) },
      { vote: va.receipted.vote, receipt: vb.receipted.receipt },
    ]
    const audit = auditVoteReceipts(state, [va.receipted, vb.receipted, ...forged])
    assert.equal(audit.checked, 2)
    assert.equal(audit.pending, 0)
    assert.deepEqual(
      audit.rejected.map((r) => r.why),
      [
        "the receipt is not signed by the project's host",
        'the receipt names another proposal or voter than the vote',
      ],
    )
    assert.deepEqual(
      audit.omitted.map((o) => [o.voter, o.proposal, o.decidedIn]),
      [[hexOf(b), p, 1]],
    )

    const verify = (voteReceipts: ReceiptedVote[]) =>
      verifyLedger({
        ledger: h.ledger.core,
        store: h.store.corestore,
        dataset: h.dataset,
        timeoutMs: 10_000,
        voteReceipts,
      })
    const honest = await verify([va.receipted, ...forged])
    assert.ok(honest.ok, 'A was counted; forged receipts accuse nobody')
    assert.equal(honest.receipts?.rejected.length, 2)
    const caught = await verify([va.receipted, vb.receipted])
    assert.equal(caught.ok, false)
    const round1 = caught.rounds.find((r) => r.round === 1)!
    assert.deepEqual(
      round1.problems.map((x) => x.code),
      ['VERIFY_VOTE_OMITTED'],
    )
    assert.equal(caught.receipts?.omitted, 1)
  })
})
