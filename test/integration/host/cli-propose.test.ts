/**
 * `tandem project propose` (docs/governance.md): while `tandem project host` runs and holds the
 * store, the proposal is queued and the running host records it in the ledger; with the host
 * stopped, it is written into the ledger directly. A change that cannot apply is a coded error.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { readLedger } from '../../../core/ledger/reader.js'
import { tempDir } from '../../support/data.js'
import { createLearnableDataset, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const spec = {
  name: 'cli governed',
  model: { type: 'mlp', inputSize: 12, hidden: [8], classes: 3, activation: 'tanh' },
  recipe: {
    innerSteps: 8,
    batchSize: 16,
    inner: { peakLr: 0.02, warmupSteps: 1, totalSteps: 100, minLrRatio: 0.1 },
    outer: {},
    roundDeadlineSec: 60,
    minUpdates: 1,
    maxUpdates: 1,
  },
  charter: {
    purpose: 'A CLI test.',
    weights: { licence: 'CC0-1.0' },
    dataSources: [{ name: 'argmax-12', licence: 'CC0-1.0' }],
    host: { name: 'CLI host', contact: 'cli@example.org' },
  },
}

describe('tandem project propose', () => {
  it('queues for a running host, writes directly otherwise, refuses a bad change', async (t) => {
    const net = await loopbackTestnet(t)
    const dir = await tempDir(t, 'tandem-propose-cli-')
    const data = join(dir, 'data')
    const store = await DatasetStore.open({ dataDir: data })
    const dataset = await createLearnableDataset(store)
    await store.close()
    const file = join(dir, 'project.json')
    await writeFile(file, JSON.stringify(spec))
    let out = ''
    let err = ''
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }
    const hostArgs = ['--state-dir', data, '--bootstrap', net.bootstrap[0]!, '--json']
    const hosting = run(
      [
        'node',
        'tandem',
        'project',
        'host',
        '--spec',
        file,
        '--dataset',
        dataset,
        '--rounds',
        '1',
      ].concat(hostArgs),
      io,
    )
    await waitUntil(() => out.includes('"event":"start"'), 'the host to start', 30_000)
    const events = () =>
      out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; project?: string; id?: number })
    const project = events().find((e) => e.event === 'start')!.project!
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
    assert.equal(await propose('Use the mean', { kind: 'aggregation', rule: 'mean' }), 0, err)
    assert.match(out, /queued for the running host/)
    await waitUntil(
      () => events().some((e) => e.event === 'proposal'),
      'the host to record it',
      10_000,
    )

    const c = await testContributor(t, net, project)
    await c.participant.start()
    assert.equal(await hosting, 0, err)

    // The host stopped: written straight into the ledger.
    assert.equal(await propose('Use the median', { kind: 'aggregation', rule: 'median' }), 0, err)
    assert.match(out, /proposal \d+ recorded in round 1/)
    assert.equal(await propose('Nothing', { kind: 'aggregation', rule: 'centered-clip' }), 2)
    assert.match(
      err,
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
