/** A dataset write that fails half-way, or a process killed mid-import, leaves no dataset. */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { contentHashOf, sha256Hex, type DatasetHeader } from '../../../core/data/header.js'
import { defer, storedCoreCount, tempDir } from '../../support/data.js'

const shards = [Buffer.alloc(10, 1), Buffer.alloc(10, 2), Buffer.alloc(5, 3)]
const hashes = shards.map((s) => sha256Hex(s))
const header: DatasetHeader = {
  format: 'tandem-dataset',
  version: 1,
  name: 'partial',
  description: '',
  license: 'CC0-1.0',
  source: { importer: 'text', files: [] },
  layout: { kind: 'tokens', dtype: 'uint8', vocab: { kind: 'byte' } },
  records: 25,
  shardRecords: 10,
  shards: 3,
  validation: { shards: 0 },
  shardHashes: hashes,
  contentHash: contentHashOf(hashes),
}

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
