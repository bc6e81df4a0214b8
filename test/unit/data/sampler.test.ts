/** The engine's data source: determinism, batch contents, validation split, disk cap. */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Batch, TensorBatch, TokenBatch } from '../../../core/engine/batch.js'
import { DiskCap } from '../../../core/data/disk-cap.js'
import { importDataset } from '../../../core/data/import.js'
import { ShardSampler } from '../../../core/data/sampler.js'
import { validationBatch, validationBatches } from '../../../core/data/validation.js'
import {
  defer,
  linkStores,
  openStore,
  tempDir,
  writeSyntheticIdx,
  writeText,
} from '../../support/data.js'

async function idxDataset(t: TestContext, count = 60, shardRecords = 8) {
  const src = await writeSyntheticIdx(await tempDir(t), count, { classes: 5 })
  const store = await openStore(t)
  const { key } = await importDataset(store, {
    file: src.images,
    labels: src.labels,
    shardSize: { records: shardRecords },
    validation: 0.25,
  })
  const ds = await store.openLocal(key)
  defer(t, () => ds.close())
  return { store, key, ds, src }
}

const TEXT = Array.from({ length: 400 }, (_, i) => `line ${i} of the corpus.\n`).join('')

async function textDataset(t: TestContext) {
  const file = await writeText(await tempDir(t), 'corpus.txt', TEXT)
  const store = await openStore(t)
  const { key } = await importDataset(store, { file, shardSize: { records: 1000 } })
  const ds = await store.openLocal(key)
  defer(t, () => ds.close())
  return { store, key, ds }
}

async function take(sampler: ShardSampler, n: number): Promise<Batch[]> {
  const out: Batch[] = []
  for (let i = 0; i < n; i++) out.push(await sampler.next())
  return out
}

describe('ShardSampler', () => {
  it('tensor batches: same seed → same batches, another seed → other batches', async (t) => {
    const { ds } = await idxDataset(t)
    const opts = { shards: [0, 1, 2, 3], batchSize: 5 }
    const a = await take(new ShardSampler(ds, { ...opts, seed: 'x' }), 12)
    const b = await take(new ShardSampler(ds, { ...opts, seed: 'x' }), 12)
    const c = await take(new ShardSampler(ds, { ...opts, seed: 'y' }), 12)
    assert.deepEqual(a, b)
    assert.notDeepEqual(a, c)
  })

  it('tensor batches hold scaled records of the assigned shards with their labels', async (t) => {
    const { ds, src } = await idxDataset(t)
    const sampler = new ShardSampler(ds, {
      shards: [1, 2],
      batchSize: 4,
      seed: 7,
      shape: [4, 3, 1],
    })
    const seen = new Set<number>()
    // 16 records over 2 shards: 4 batches is one epoch, each record exactly once.
    for (const batch of (await take(sampler, 4)) as TensorBatch[]) {
      assert.equal(batch.kind, 'tensors')
      assert.deepEqual(batch.shape, [4, 3, 1])
      assert.equal(batch.x.length, 4 * 12)
      for (let i = 0; i < batch.batch; i++) {
        const x = batch.x.subarray(i * 12, (i + 1) * 12)
        assert.ok(x.every((v) => v >= 0 && v <= 1))
        const record = [...Array(60).keys()].find((r) =>
          src.pixels
            .subarray(r * 12, r * 12 + 12)
            .every((p, k) => Math.abs(p / 255 - x[k]!) < 1e-6),
        )
        assert.ok(record !== undefined && record >= 8 && record < 24, `record ${record}`)
        assert.equal(batch.y[i], src.labelValues[record])
        seen.add(record)
      }
    }
    assert.equal(seen.size, 16)
  })

  it('token batches are seqLen + 1 windows of the corpus, reproducible from the seed', async (t) => {
    const { ds } = await textDataset(t)
    const opts = { shards: [0, 1, 2], batchSize: 3, seqLen: 31 }
    const a = (await take(new ShardSampler(ds, { ...opts, seed: 1 }), 20)) as TokenBatch[]
    const b = (await take(new ShardSampler(ds, { ...opts, seed: 1 }), 20)) as TokenBatch[]
    assert.deepEqual(a, b)
    const corpus = Buffer.from(TEXT).toString('latin1')
    for (const batch of a) {
      assert.equal(batch.tokens.length, 3 * 32)
      for (let i = 0; i < 3; i++) {
        const window = String.fromCharCode(...batch.tokens.subarray(i * 32, i * 32 + 32))
        const at = corpus.indexOf(window)
        assert.ok(at >= 0 && at < 3000, 'window comes from the assigned shards')
      }
    }
  })

  it('validation batches come from the held-out shards only, in a fixed order', async (t) => {
    const { ds, src } = await idxDataset(t)
    assert.equal(ds.header.validation.shards, 2)
    const all: TensorBatch[] = []
    for await (const b of validationBatches(ds, { batchSize: 5 })) all.push(b as TensorBatch)
    // Validation = shards 6 and 7: records 48..59.
    assert.deepEqual(
      all.map((b) => b.batch),
      [5, 5, 2],
    )
    const labels = all.flatMap((b) => [...b.y])
    assert.deepEqual(labels, [...src.labelValues.subarray(48)])
    assert.deepEqual(await validationBatch(ds, { batchSize: 5 }), all[0])
  })

  it('a closed sampler refuses with WRONG_STATE (the call is fine, the moment is not)', async (t) => {
    const { ds } = await idxDataset(t)
    const sampler = new ShardSampler(ds, { shards: [0], batchSize: 1, seed: 1 })
    sampler.close()
    await assert.rejects(sampler.next(), { code: 'WRONG_STATE' })
  })

  it('rejects bad options with BAD_ARGUMENT', async (t) => {
    const { ds } = await idxDataset(t)
    const bad = { code: 'BAD_ARGUMENT' }
    assert.throws(() => new ShardSampler(ds, { shards: [], batchSize: 1, seed: 1 }), bad)
    assert.throws(() => new ShardSampler(ds, { shards: [99], batchSize: 1, seed: 1 }), bad)
    assert.throws(
      () => new ShardSampler(ds, { shards: [0], batchSize: 1, seed: 1, shape: [5] }),
      bad,
    )
  })
})

describe('disk cap', () => {
  it('evicts shards not needed soon and never exceeds the cap', async (t) => {
    const { store: origin, key } = await idxDataset(t, 80, 8)
    const replica = await openStore(t)
    linkStores(t, origin, replica)
    const ds = await replica.open(key)
    defer(t, () => ds.close())
    const shardBytes = ds.shardBytes(0)
    const cap = new DiskCap(ds, shardBytes * 3)
    // A sampler over 6 shards, mixing 1 at a time with 1 ahead, fits in 3 shards of disk.
    const sampler = new ShardSampler(ds, {
      shards: [0, 1, 2, 3, 4, 5],
      batchSize: 8,
      seed: 3,
      mixShards: 1,
      prefetch: 1,
      diskCap: cap,
    })
    defer(t, () => sampler.close())
    for (let i = 0; i < 14; i++) {
      await sampler.next()
      assert.ok((await ds.localBytes()) <= cap.capBytes, `over the cap after batch ${i}`)
    }
    assert.ok((await ds.localShards()).length <= 3)
    await assert.rejects(cap.plan([0, 1, 2, 3]), { code: 'DATASET_DISK_CAP' })
  })

  it('keeps the shards needed now and soon, evicting least recently used first', async (t) => {
    const { store: origin, key } = await idxDataset(t, 80, 8)
    const replica = await openStore(t)
    linkStores(t, origin, replica)
    const ds = await replica.open(key)
    defer(t, () => ds.close())
    await ds.download([0, 1, 2]).done()
    const cap = new DiskCap(ds, ds.shardBytes(0) * 3)
    cap.touch([1])
    cap.touch([0])
    cap.touch([2])
    const plan = await cap.plan([3], [2])
    assert.deepEqual(plan.evicted, [1])
    assert.deepEqual(plan.download, [3])
    assert.deepEqual(await ds.localShards(), [0, 2])
  })

  it('counts downloads still in flight, so back-to-back plans cannot exceed the cap', async (t) => {
    const { store: origin, key } = await idxDataset(t, 80, 8)
    const replica = await openStore(t)
    linkStores(t, origin, replica)
    const ds = await replica.open(key)
    defer(t, () => ds.close())
    const cap = new DiskCap(ds, ds.shardBytes(0) * 3)
    // Nothing is downloaded between the plans: the first plan's shards are all in flight.
    assert.deepEqual((await cap.plan([0], [1, 2, 3])).download, [0, 1, 2])
    assert.deepEqual((await cap.plan([], [4, 5])).download, [])
    await assert.rejects(cap.plan([4]), { code: 'DATASET_DISK_CAP' })
    // Once they are local they count as local (and may be evicted); released room is free again.
    await ds.download([0]).done()
    cap.release([1, 2])
    assert.deepEqual((await cap.plan([4], [5])).download, [4, 5])
  })
})
