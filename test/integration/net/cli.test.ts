/** `tandem testnet` and `tandem swarm`, run as a user would: through the installed bin. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import Corestore from 'corestore'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { importDataset } from '../../../core/data/import.js'
import { IDENTITY_FILE } from '../../../core/net/identity.js'
import { freeLoopbackPort } from '../../../core/net/testnet.js'
import { writeSyntheticIdx } from '../../support/data.js'
import { spawnTandem, type Spawned } from '../../support/process.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

async function home(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-home-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function stopOnTeardown(t: TestContext, p: Spawned): Spawned {
  t.after(async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGINT')
      await p.exited
    }
  })
  return p
}

describe('tandem testnet and swarm', () => {
  it('two swarm nodes meet on the printed testnet and keep their identities', async (t) => {
    const testnet = stopOnTeardown(t, spawnTandem(['testnet', '--json']))
    const line = await testnet.waitFor(/\{.*"bootstrap".*\}\n/)
    const { bootstrap } = JSON.parse(line[0]) as { bootstrap: string }
    assert.match(bootstrap, /^127\.0\.0\.1:\d+$/)

    const homes = [await home(t), await home(t)]
    // Hosts announce on the discovery topic and contributors look there, so one of each meets.
    const host = stopOnTeardown(
      t,
      spawnTandem(['swarm', '--bootstrap', bootstrap, '--host', '--json'], {
        TANDEM_HOME: homes[0],
      }),
    )
    const contributor = stopOnTeardown(
      t,
      spawnTandem(['swarm', '--bootstrap', bootstrap, '--json'], { TANDEM_HOME: homes[1] }),
    )
    for (const node of [host, contributor]) await node.waitFor(/"event":"peer"/)
    for (const node of [host, contributor]) {
      node.child.kill('SIGINT')
      assert.equal((await node.exited).code, 0, node.output())
      assert.match(node.output(), /"event":"stop"/)
    }
    for (const dir of homes) {
      const info = await stat(join(dir, 'data', IDENTITY_FILE))
      assert.equal(info.mode & 0o777, 0o600)
    }
    testnet.child.kill('SIGINT')
    assert.equal((await testnet.exited).code, 0)
  })

  it("serves the node's datasets: its corestore replicates on every swarm connection", async (t) => {
    // A dataset imported into the node's data dir, as `tandem dataset import` would.
    const dir = await home(t)
    const src = await writeSyntheticIdx(dir, 40, { classes: 4 })
    const store = await DatasetStore.open({ dataDir: join(dir, 'data') })
    const { key } = await importDataset(store, {
      file: src.images,
      labels: src.labels,
      shardSize: { records: 16 },
    })
    await store.close()

    const testnet = await loopbackTestnet(t)
    const swarm = stopOnTeardown(
      t,
      spawnTandem(['swarm', '--bootstrap', testnet.bootstrap[0]!, '--host', '--json'], {
        TANDEM_HOME: dir,
      }),
    )
    await swarm.waitFor(/"event":"start"/)
    // A plain corestore on an in-process node asks for the dataset by key over that connection.
    const reader = new Corestore(join(await home(t), 'reader'))
    t.after(() => reader.close())
    const node = testnet.node({ corestore: reader })
    node.joinDiscovery()
    await waitUntil(() => node.peers().length === 1, 'the swarm process as a peer', 15_000)
    const core = reader.get({ key: Buffer.from(key, 'hex') })
    t.after(() => core.close())
    const header = await core.get(0, { timeout: 10_000 })
    assert.equal(JSON.parse(header!.toString('utf8')).format, 'tandem-dataset')

    swarm.child.kill('SIGINT')
    assert.equal((await swarm.exited).code, 0, swarm.output())
  })

  it('starts offline without crashing and stops cleanly on Ctrl-C', async (t) => {
    const port = await freeLoopbackPort()
    const node = stopOnTeardown(
      t,
      spawnTandem(['swarm', '--bootstrap', `127.0.0.1:${port}`], { TANDEM_HOME: await home(t) }),
    )
    await node.waitFor(/; offline\n/)
    node.child.kill('SIGINT')
    const { code } = await node.exited
    assert.equal(code, 0, node.output())
    assert.doesNotMatch(node.output(), /error/i)
  })

  it('rejects a bad --bootstrap with a coded error', async () => {
    const node = spawnTandem(['swarm', '--bootstrap', 'nowhere'])
    assert.equal((await node.exited).code, 2)
    assert.match(node.output(), /\[BAD_ARGUMENT\]/)
  })
})
