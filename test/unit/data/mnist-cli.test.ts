/** Real data (MNIST t10k from ../shared/data) through the `tandem dataset` commands. */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import type { TensorBatch } from '../../../core/engine/batch.js'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { ShardSampler } from '../../../core/data/sampler.js'
import { validationBatch } from '../../../core/data/validation.js'
import { defer, SHARED_DATA, tempDir } from '../../support/data.js'
import { runTandem as tandem } from '../../support/cli-io.js'

const images = join(SHARED_DATA, 'mnist-t10k-images-idx3-ubyte.gz')
const labels = join(SHARED_DATA, 'mnist-t10k-labels-idx1-ubyte.gz')
const missing = existsSync(images) ? false : `MNIST t10k not found in ${SHARED_DATA}`

describe('tandem dataset (MNIST t10k)', { skip: missing }, () => {
  it('imports, lists and describes MNIST, and samples scaled digits', async (t) => {
    const home = await tempDir(t)
    const saved = process.env['TANDEM_HOME']
    process.env['TANDEM_HOME'] = home
    defer(t, () => {
      if (saved === undefined) delete process.env['TANDEM_HOME']
      else process.env['TANDEM_HOME'] = saved
    })

    const imported = await tandem([
      'dataset',
      'import',
      images,
      '--labels',
      labels,
      '--name',
      'mnist-t10k',
      '--license',
      'CC-BY-SA-3.0',
      '--json',
    ])
    assert.equal(imported.code, 0, imported.err)
    const { key, header } = JSON.parse(imported.out) as {
      key: string
      header: { records: number; shards: number; layout: { labels: { classes: number } } }
    }
    assert.match(key, /^[0-9a-f]{64}$/)
    assert.equal(header.records, 10_000)
    assert.equal(header.layout.labels.classes, 10)

    const list = await tandem(['dataset', 'list'])
    assert.match(list.out, new RegExp(`^${key}\\s+origin\\s+mnist-t10k$`, 'm'))
    const info = await tandem(['dataset', 'info', key, '--json'])
    const parsed = JSON.parse(info.out) as { localShards: number; shards: number; bytes: number }
    assert.equal(parsed.localShards, parsed.shards)
    assert.equal(parsed.bytes, 10_000 * (784 + 1))
    const text = await tandem(['dataset', 'info', key])
    assert.match(text.out, /layout\s+tensors \[28×28\] uint8, 10 classes/)

    const store = await DatasetStore.open()
    defer(t, () => store.close())
    const ds = await store.openLocal(key)
    defer(t, () => ds.close())
    // The first t10k test digit is a 7.
    const first = await ds.readShard(0)
    assert.equal(first.kind === 'tensors' && first.y[0], 7)
    const batch = (await new ShardSampler(ds, {
      shards: [0, 1],
      batchSize: 32,
      seed: 'mnist',
      shape: [28, 28, 1],
    }).next()) as TensorBatch
    assert.deepEqual(batch.shape, [28, 28, 1])
    assert.ok(batch.x.every((v) => v >= 0 && v <= 1))
    assert.ok(batch.x.some((v) => v === 1))
    const val = (await validationBatch(ds, { batchSize: 100 })) as TensorBatch
    assert.equal(val.batch, 100)
  })

  it('reports unknown keys and bad flags with codes', async (t) => {
    const home = await tempDir(t)
    const saved = process.env['TANDEM_HOME']
    process.env['TANDEM_HOME'] = home
    defer(t, () => {
      if (saved === undefined) delete process.env['TANDEM_HOME']
      else process.env['TANDEM_HOME'] = saved
    })
    const unknown = await tandem(['dataset', 'info', 'ab'.repeat(32)])
    assert.equal(unknown.code, 2)
    assert.match(unknown.err, /\[DATASET_NOT_FOUND\]/)
    const badKey = await tandem(['dataset', 'info', 'nope'])
    assert.match(badKey.err, /\[BAD_ARGUMENT\]/)
    const badSize = await tandem(['dataset', 'import', images, '--shard-size', '12 parsecs'])
    assert.match(badSize.err, /\[BAD_ARGUMENT\]/)
    // Real MNIST files cut part-way: the images inside record 5000, then the labels.
    const dir = await tempDir(t)
    const rawImages = gunzipSync(await readFile(images))
    const rawLabels = gunzipSync(await readFile(labels))
    const cutImages = join(dir, 'cut-images-idx3-ubyte')
    const cutLabels = join(dir, 'cut-labels-idx1-ubyte')
    await writeFile(cutImages, rawImages.subarray(0, 16 + 5000 * 784 + 100))
    await writeFile(cutLabels, rawLabels.subarray(0, 8 + 5000))
    for (const [x, y, what] of [
      [cutImages, labels, /image 5000 of 10000/],
      [images, cutLabels, /label 5000 of 10000/],
    ] as const) {
      const truncated = await tandem(['dataset', 'import', x, '--labels', y])
      assert.equal(truncated.code, 2)
      assert.match(truncated.err, /\[DATASET_TRUNCATED_INPUT\]/)
      assert.match(truncated.err, what)
    }
    const empty = await tandem(['dataset', 'list', '--json'])
    assert.deepEqual(JSON.parse(empty.out), [])
  })
})
