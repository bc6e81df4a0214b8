/**
 * The voter's node audits its own vote receipts (docs/governance.md, "Vote receipts"): a real
 * contributor node votes through the API (as the UI and `tandem vote` do), keeps the host's
 * receipt in its vote-receipts.json, and when the vote closes without counting it (the host's
 * ledger writer made hostile: it receipts the vote but never records it) the node raises the
 * `governance` event `vote-omitted` and flags the project. A second contributor, held in round 1,
 * keeps the vote open until the node has voted.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { dispatch } from '../../../core/api/dispatch.js'
import { createApi } from '../../../core/node/api.js'
import { VoteReceiptsFile } from '../../../core/node/vote-receipt-book.js'
import { charter } from '../../support/governance-fixtures.js'
import { startTestHost, testContributor } from '../../support/host-fixtures.js'
import { nextEvent, startTestNode } from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

describe('vote receipts on the voter node', () => {
  it('flags the project when the decided tally leaves out its receipted vote', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, {
      charter,
      recipe: { minUpdates: 2, maxUpdates: 2, roundDeadlineSec: 60 },
      host: { rounds: 2 },
    })
    let hold = 1
    const c = await testContributor(t, net, h.project, { gate: (r) => r < hold })
    const node = await startTestNode(t, net)
    const me = node.identity.publicKey.toString('hex')
    await h.host.start()
    await c.participant.start()
    await node.join(h.project)
    await waitUntil(() => h.ledger.round >= 1, 'round 0 to close', 60_000)
    const eligible = h.ledger.state.rounds[0]!.receipt!.contributions.filter((x) => x.accepted)
    assert.equal(eligible.length, 2)

    // The hostile host: the node's vote is receipted but never reaches the ledger.
    const record = h.ledger.recordVote.bind(h.ledger)
    h.ledger.recordVote = (vote, check) => {
      if (vote.voter !== me) return record(vote, check)
      check?.(h.ledger.state)
      return Promise.resolve(h.ledger.core.length)
    }
    const p = await h.host.propose('Aggregate with the plain mean', {
      kind: 'aggregation',
      rule: 'mean',
    })
    await waitUntil(
      () => (node.participant(h.project)?.ledgerState?.governance?.proposals.length ?? 0) > 0,
      'the node to see the proposal',
      20_000,
    )
    const api = createApi(node, 'daemon')
    const omitted = nextEvent(
      node,
      'governance',
      (e) => e.kind === 'vote-omitted' && e.proposal === p,
      'the vote-omitted event',
    )
    const voted = await dispatch(api, {
      id: 1,
      method: 'governance.vote',
      params: { project: h.project, proposal: p, choice: 'yes' },
    })
    assert.ok(voted.ok, JSON.stringify(voted))
    const file = VoteReceiptsFile.parse(
      JSON.parse(await readFile(join(node.paths.data, 'vote-receipts.json'), 'utf8')),
    )
    assert.deepEqual(
      file.receipts.map((r) => [r.receipt.proposal, r.receipt.voter, r.vote.choice]),
      [[p, me, 'yes']],
    )

    hold = 2
    c.participant.poke()
    const event = await omitted
    assert.equal(event.status, 'failed', 'without the vote there was no quorum')
    const flags = node.flags.list(h.project)
    assert.equal(flags.length, 1)
    assert.match(flags[0]!.reason, /^VERIFY_VOTE_OMITTED: .*proposal \d+ \(vote [0-9a-f]{64}\)/)
    assert.ok(flags[0]!.reason.includes(file.receipts[0]!.receipt.voteHash))
  })
})
