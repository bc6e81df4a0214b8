/** A dataset write that fails half-way, or a process killed mid-import, leaves no dataset. */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { TandemError } from '../../../core/api/errors.js'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { defer, storedCoreCount, tempDir } from '../../support/data.js'
import { header, shards } from '../../support/small-dataset.js'

describe('atomic dataset writes', () => {
  it('a write that fails after some shards removes the core and its index entry', async (t) => {
    const dir = await tempDir(t)
    const store = await DatasetStore.open({ dataDir: dir })
    defer(t, () => store.close())
    async function* failing() {
      yield [shards[0]!]
      throw new Error('disk full')
    }
    await assert.rejects(store.create(header, failing()), /disk full/)
    assert.deepEqual(store.list(), [])
    assert.equal(await storedCoreCount(store), 0)
  })

  it('an import killed mid-write is cleaned up when the store next opens', async (t) => {
    const dir = await tempDir(t)
    const first = await DatasetStore.open({ dataDir: dir })
    async function* all() {
      yield shards
    }
    const key = await first.create(header, all())
    await first.close()
    // Simulate the crash: the index still says "importing".
    const indexPath = join(dir, 'datasets.json')
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as {
      datasets: Array<{ state: string }>
    }
    index.datasets[0]!.state = 'importing'
    await writeFile(indexPath, JSON.stringify(index))

    const second = await DatasetStore.open({ dataDir: dir })
    defer(t, () => second.close())
    assert.deepEqual(second.list(), [])
    await assert.rejects(second.openLocal(key), { code: 'DATASET_NOT_FOUND' })
    assert.equal(await storedCoreCount(second), 0)
  })
})

describe('aborted dataset writes', () => {
  it('an abort between batches removes the core and its index entry', async (t) => {
    const dir = await tempDir(t)
    const store = await DatasetStore.open({ dataDir: dir })
    defer(t, () => store.close())
    const abort = new AbortController()
    const reason = new TandemError('DATASET_IMPORT_ABORTED', 'stopped')
    async function* batches() {
      yield [shards[0]!]
      abort.abort(reason)
      yield [shards[1]!, shards[2]!]
    }
    await assert.rejects(store.create(header, batches(), { signal: abort.signal }), {
      code: 'DATASET_IMPORT_ABORTED',
    })
    assert.deepEqual(store.list(), [])
    assert.equal(await storedCoreCount(store), 0)
  })
})
