/**
 * `tandem project propose` (docs/governance.md): while `tandem project host` runs and holds the
 * store, the proposal is queued and the running host records it in the ledger; with the host
 * stopped, it is written into the ledger directly. A change that cannot apply is a coded error.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { readLedger } from '../../../core/ledger/reader.js'
import { cliProjectSpec, startCliHost } from '../../support/cli-host.js'
import { testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const spec = cliProjectSpec(
  'cli governed',
  {},
  {
    charter: {
      purpose: 'A CLI test.',
      weights: { licence: 'CC0-1.0' },
      dataSources: [{ name: 'argmax-12', licence: 'CC0-1.0' }],
      host: { name: 'CLI host', contact: 'cli@example.org' },
    },
  },
)

describe('tandem project propose', () => {
  it('queues for a running host, writes directly otherwise, refuses a bad change', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startCliHost(t, net, spec, 1)
    const { project, events, data, io } = h
    const propose = (title: string, change: unknown) =>
      run(
        [
          'node',
          'tandem',
          'project',
          'propose',
          project,
          '--title',
          title,
          '--change',
          JSON.stringify(change),
          '--state-dir',
          data,
        ],
        io,
      )
    assert.equal(
      await propose('Use the mean', { kind: 'aggregation', rule: 'mean' }),
      0,
      io.errText,
    )
    assert.match(io.outText, /queued for the running host/)
    await waitUntil(
      () => events().some((e) => e.event === 'proposal'),
      'the host to record it',
      10_000,
    )

    const c = await testContributor(t, net, project)
    await c.participant.start()
    assert.equal(await h.exited, 0, io.errText)

    // The host stopped: written straight into the ledger.
    assert.equal(
      await propose('Use the median', { kind: 'aggregation', rule: 'median' }),
      0,
      io.errText,
    )
    assert.match(io.outText, /proposal \d+ recorded in round 1/)
    assert.equal(await propose('Nothing', { kind: 'aggregation', rule: 'centered-clip' }), 2)
    assert.match(
      io.errText,
      /cannot propose this change: the rule is centered-clip already \[BAD_ARGUMENT\]/,
    )
    assert.equal(await propose('Bad', { kind: 'model' }), 2)

    const reopened = await DatasetStore.open({ dataDir: data })
    t.after(() => reopened.close())
    const core = reopened.corestore.get({ key: Buffer.from(project, 'hex') })
    t.after(() => core.close())
    const state = await readLedger(core, { wait: false })
    assert.deepEqual(
      state.governance!.proposals.map((p) => [p.round, p.value.title]),
      [
        [0, 'Use the mean'],
        [1, 'Use the median'],
      ],
    )
  })
})
