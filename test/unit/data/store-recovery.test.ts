/**
 * The store after trouble: an import killed in its spool phase, stale spool dirs, an index entry
 * whose core never got created, a corrupt index, and a data dir another process holds.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { defer, leftoverTempFiles, storedCoreCount, tempDir } from '../../support/data.js'
import { header, shards } from '../../support/small-dataset.js'

/** A pid that no process has: one of a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.on('exit', resolve))
  return child.pid!
}

describe('dataset store recovery', () => {
  it('an import killed (SIGKILL) while spooling leaves nothing after the next open', async (t) => {
    const dataDir = join(await tempDir(t), 'data')
    const input = join(await tempDir(t), 'big.txt')
    // 4 MiB: several 1 MiB read chunks, so the child stalls after its first shards are spooled.
    await writeFile(input, Buffer.alloc(4 << 20, 'tandem '))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/stalled-import.ts', dataDir, input],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    defer(t, () => child.kill('SIGKILL'))
    let out = ''
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const spooling = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no spool after 30 s:\n${out}`)), 30_000)
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        const m = /spooling (.+)\n/.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      })
      child.on('exit', () => reject(new Error(`child exited before spooling:\n${out}`)))
    })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGKILL')
    await exited
    assert.ok((await readdir(spooling)).includes('shards.spool'), 'the kill left a spool behind')

    const store = await DatasetStore.open({ dataDir })
    defer(t, () => store.close())
    assert.deepEqual(await leftoverTempFiles(store), [])
    assert.deepEqual(store.list(), [])
    assert.equal(await storedCoreCount(store), 0)
  })

  it('removes spool dirs of dead processes and old unnamed ones, keeps live ones', async (t) => {
    const dataDir = await tempDir(t)
    const tmp = join(dataDir, 'tmp')
    const dead = `import-${await deadPid()}-aaaaaa`
    const legacy = 'import-Xy12Zq'
    // The parent of this test process is alive: its import would still be running.
    const live = `import-${process.ppid}-bbbbbb`
    const ours = `import-${process.pid}-cccccc` // this pid, but no import of ours uses it
    for (const name of [dead, legacy, live, ours]) {
      await mkdir(join(tmp, name), { recursive: true })
      await writeFile(join(tmp, name, 'shards.spool'), 'x')
    }
    await writeFile(join(tmp, 'not-an-import'), 'kept')
    const store = await DatasetStore.open({ dataDir })
    defer(t, () => store.close())
    assert.deepEqual((await readdir(tmp)).sort(), [live, 'not-an-import'].sort())
  })

  it('an index entry whose core was never created is removed without creating one', async (t) => {
    const dataDir = await tempDir(t)
    // What a kill right after the "importing" entry is saved leaves (create() saves it first).
    const entry = {
      key: 'ab'.repeat(32),
      name: 'cut',
      role: 'origin',
      state: 'importing',
      addedAt: new Date().toISOString(),
    }
    await writeFile(
      join(dataDir, 'datasets.json'),
      JSON.stringify({ version: 1, datasets: [entry] }),
    )
    const store = await DatasetStore.open({ dataDir })
    defer(t, () => store.close())
    assert.deepEqual(store.list(), [])
    assert.equal(await storedCoreCount(store), 0)
    const index = JSON.parse(await readFile(join(dataDir, 'datasets.json'), 'utf8')) as {
      datasets: unknown[]
    }
    assert.deepEqual(index.datasets, [])
  })

  it('records the import in the index before any block is written', async (t) => {
    const dataDir = await tempDir(t)
    const store = await DatasetStore.open({ dataDir })
    defer(t, () => store.close())
    let seen: Array<{ key: string; state: string }> = []
    async function* batches() {
      const text = await readFile(join(dataDir, 'datasets.json'), 'utf8')
      seen = (JSON.parse(text) as { datasets: typeof seen }).datasets
      yield shards
    }
    const key = await store.create(header, batches())
    assert.deepEqual(
      seen.map((e) => [e.key, e.state]),
      [[key, 'importing']],
    )
  })

  it('refuses a corrupt index with DATASET_INDEX_CORRUPT and leaves it untouched', async (t) => {
    for (const text of ['{"version": 1, "datasets": [', '{"version": 2}', '']) {
      const dataDir = await tempDir(t)
      const path = join(dataDir, 'datasets.json')
      await writeFile(path, text)
      await assert.rejects(DatasetStore.open({ dataDir }), { code: 'DATASET_INDEX_CORRUPT' })
      assert.equal(await readFile(path, 'utf8'), text)
      // The corestore was closed on the way out: the dir can be opened again once fixed.
      await writeFile(path, JSON.stringify({ version: 1, datasets: [] }))
      const store = await DatasetStore.open({ dataDir })
      await store.close()
    }
  })

  it('a data dir in use by another store fails with DATASET_STORE_BUSY', async (t) => {
    const dataDir = await tempDir(t)
    const first = await DatasetStore.open({ dataDir })
    defer(t, () => first.close())
    // The corestore's lock is per open file, so a second open in this process is refused too.
    await assert.rejects(DatasetStore.open({ dataDir }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'DATASET_STORE_BUSY')
      assert.match(err.message, /another Tandem process is using the data dir/)
      return true
    })
  })
})
