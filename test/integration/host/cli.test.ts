/**
 * `tandem project host`, in-process: creates a project from a spec on a dataset already in the
 * state dir, hosts it on a loopback testnet for one round with one contributor, and stops by itself.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { tempDir } from '../../support/data.js'
import { createLearnableDataset, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const spec = {
  name: 'cli hosted',
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
}

describe('tandem project host', () => {
  it('creates and hosts a project for one round, then exits', async (t) => {
    const net = await loopbackTestnet(t)
    const dir = await tempDir(t, 'tandem-host-cli-')
    const store = await DatasetStore.open({ dataDir: join(dir, 'data') })
    const dataset = await createLearnableDataset(store)
    await store.close()
    const file = join(dir, 'project.json')
    await writeFile(file, JSON.stringify(spec))

    let out = ''
    let err = ''
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }
    const args = ['--state-dir', join(dir, 'data'), '--bootstrap', net.bootstrap[0]!, '--json']
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
      ].concat(args),
      io,
    )
    await waitUntil(() => out.includes('"event":"start"'), 'the host to start', 30_000)
    const events = () =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; project?: string; accepted?: number })
    const project = events().find((e) => e.event === 'start')!.project!
    const c = await testContributor(t, net, project)
    await c.participant.start()
    assert.equal(await hosting, 0, err)
    const closed = events().find((e) => e.event === 'round-closed')
    assert.equal(closed?.accepted, 1, out)
    assert.equal(events().at(-1)?.event, 'stop')

    // Unknown keys and a missing key (without --spec) are coded errors.
    assert.equal(
      await run(['node', 'tandem', 'project', 'host', 'ab'.repeat(32)].concat(args), io),
      2,
    )
    assert.match(err, /PROJECT_NOT_FOUND/)
    assert.equal(await run(['node', 'tandem', 'project', 'host'].concat(args), io), 2)
    assert.match(err, /BAD_ARGUMENT/)
  })
})
