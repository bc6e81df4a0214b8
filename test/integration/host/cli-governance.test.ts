/**
 * Governance end to end through the built CLI (core/cli/bin.mjs → dist/), on a loopback testnet:
 * `tandem project host` with a charter, a `tandem daemon` that joined the project and trains, and
 * a second (in-process) contributor held back in rounds 1 and 2 so the votes and the export happen
 * while those rounds are open. Through the built `tandem`: `project propose` (queued for the running
 * host), `proposals` (lists it open, then passed), `vote` (signed by the daemon, recorded, its
 * receipt kept in the daemon's vote-receipts.json) and `model export`, whose safetensors file loads
 * back with exactly the ledger checkpoint's weights.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import type { GovernanceView, ProposalView } from '../../../core/api/contract.js'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { decodeSafetensors, tensorsToWeights } from '../../../core/engine/safetensors.js'
import { readCheckpoint, readLedger } from '../../../core/ledger/reader.js'
import { VoteReceiptsFile } from '../../../core/node/vote-receipt-book.js'
import { cliProjectSpec, startCliHost } from '../../support/cli-host.js'
import { tempDir } from '../../support/data.js'
import { charter } from '../../support/governance-fixtures.js'
import { testContributor } from '../../support/host-fixtures.js'
import { runBuiltTandem, spawnTandem, stopWhenDone } from '../../support/process.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const spec = cliProjectSpec(
  'cli governance',
  { minUpdates: 2, maxUpdates: 2, roundDeadlineSec: 120 },
  { charter },
)

describe('governance through the built CLI', () => {
  before(async () => {
    await selectBackend('cpu')
  })

  it('proposes, lists, votes and exports a model that loads back', async (t) => {
    // The daemon goes before the testnet (teardown runs in registration order).
    const holdDaemon = stopWhenDone(t)
    const net = await loopbackTestnet(t)
    const h = await startCliHost(t, net, spec, 3)
    const home = await tempDir(t, 'tandem-cli-gov-home-')
    const daemon = holdDaemon(
      spawnTandem([
        'daemon',
        '--home',
        home,
        '--bootstrap',
        net.bootstrap[0]!,
        '--join',
        h.project,
        '--backend',
        'cpu',
        '--threads',
        '1',
      ]),
    )
    let hold = 1
    const c = await testContributor(t, net, h.project, { gate: (r) => r < hold })
    await c.participant.start()
    await daemon.waitFor(/press Ctrl-C to stop/, 60_000)
    await waitUntil(
      () => h.events().some((e) => e.event === 'round-closed'),
      'round 0 to close',
      60_000,
    )

    const tandem = async (args: string[]) => {
      const r = await runBuiltTandem([...args, '--home', home, '--json'])
      assert.equal(r.code, 0, `tandem ${args.join(' ')}: ${r.err}`)
      return JSON.parse(r.out) as unknown
    }
    const propose = await runBuiltTandem([
      'project',
      'propose',
      h.project,
      '--title',
      'Aggregate with the plain mean',
      '--change',
      JSON.stringify({ kind: 'aggregation', rule: 'mean' }),
      '--state-dir',
      h.data,
    ])
    assert.equal(propose.code, 0, propose.err)
    assert.match(propose.out, /queued for the running host/)

    // The daemon lists it once the host recorded it and the ledger replicated.
    let open: ProposalView | undefined
    await waitUntil(
      async () => {
        const g = (await tandem(['proposals', h.project])) as GovernanceView
        open = g.proposals[0]
        return open !== undefined
      },
      'the daemon to list the proposal',
      30_000,
      250,
    )
    assert.equal(open!.status, 'open')
    assert.equal(open!.title, 'Aggregate with the plain mean')
    assert.equal(open!.canVote, true)
    assert.deepEqual(open!.diff, [
      { field: 'aggregation.rule', from: '"centered-clip"', to: '"mean"' },
    ])

    const voted = (await tandem(['vote', h.project, `${open!.id}`, 'yes'])) as ProposalView
    assert.equal(voted.myVote, 'yes')
    const receipts = VoteReceiptsFile.parse(
      JSON.parse(await readFile(join(home, 'data', 'vote-receipts.json'), 'utf8')),
    )
    assert.deepEqual(
      receipts.receipts.map((r) => [r.receipt.project, r.receipt.proposal, r.vote.choice]),
      [[h.project, open!.id, 'yes']],
    )
    const again = await runBuiltTandem(['vote', h.project, `${open!.id}`, 'no', '--home', home])
    assert.notEqual(again.code, 0)
    assert.match(again.err, /VOTE_DUPLICATE/)

    // Round 1 closes the vote (one round): passed, in effect from round 2.
    hold = 2
    c.participant.poke()
    await waitUntil(
      async () => {
        const g = (await tandem(['proposals', h.project])) as GovernanceView
        return g.proposals[0]?.status === 'passed'
      },
      'the vote to close as passed',
      60_000,
      250,
    )

    // Round 2 is open (c is held): the daemon exports the latest checkpoint, verified.
    const out = join(h.dir, 'model.safetensors')
    const exported = (await tandem(['model', 'export', h.project, '--out', out])) as {
      round: number
      verified: boolean
      path: string
    }
    assert.equal(exported.path, out)
    assert.equal(exported.verified, true)
    const core = c.store.get({ key: Buffer.from(h.project, 'hex') })
    t.after(() => core.close())
    const state = await readLedger(core, { wait: true, timeout: 10_000 })
    const ckpt = await readCheckpoint(core, state, exported.round, { wait: true, timeout: 10_000 })
    const file = decodeSafetensors(await readFile(out))
    assert.equal(file.metadata['tandem.checkpoint'], ckpt.contentHash)
    assert.deepEqual(tensorsToWeights(state.manifest.model, file.tensors), ckpt.weights)

    hold = 3
    c.participant.poke()
    assert.equal(await h.exited, 0, h.io.errText)
  })
})
