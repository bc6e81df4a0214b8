/**
 * Class names (docs/dataset-format.md): optional in the header, checked with zod (one distinct,
 * printable name per class; a header without names still reads), given by a CSV's word labels or
 * `--class-names`, and carried to "try it" (classify) as each class's label.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { isTandemError } from '../../../core/api/errors.js'
import {
  contentHashOf,
  decodeHeader,
  encodeHeader,
  sha256Hex,
  type DatasetHeader,
} from '../../../core/data/header.js'
import { importDataset } from '../../../core/data/import.js'
import { classify } from '../../../core/engine/classify.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import * as tf from '../../../core/engine/tf.js'
import { defer, openStore, tempDir, writeText } from '../../support/data.js'
import { tinyMlp } from '../../support/engine-fixtures.js'

const hashes = ['a', 'b'].map((s) => sha256Hex(Buffer.from(s)))
const header: DatasetHeader = {
  format: 'tandem-dataset',
  version: 1,
  name: 'pets',
  description: '',
  license: 'CC0-1.0',
  source: { importer: 'csv', files: ['pets.csv'] },
  layout: {
    kind: 'tensors',
    shape: [2],
    dtype: 'float32',
    scale: 1,
    labels: { dtype: 'int32', classes: 3, names: ['cat', 'dog', 'bird'] },
  },
  records: 20,
  shardRecords: 10,
  shards: 2,
  validation: { shards: 1 },
  shardHashes: hashes,
  contentHash: contentHashOf(hashes),
}

const withNames = (names: unknown): unknown => ({
  ...header,
  layout: { ...header.layout, labels: { dtype: 'int32', classes: 3, names } },
})

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return isTandemError(err) ? err.code : String(err)
  }
  return 'no error'
}

describe('class names', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })

  it('round-trip in the header; a header without them still reads; bad ones are refused', () => {
    assert.deepEqual(decodeHeader(encodeHeader(header)), header)
    const old = withNames(undefined) as DatasetHeader
    assert.equal(decodeHeader(encodeHeader(old)).layout.kind, 'tensors')
    const bad = { code: 'DATASET_BAD_HEADER' }
    for (const names of [
      ['cat', 'dog'],
      ['cat', 'cat', 'dog'],
      ['cat', '', 'dog'],
      ['cat', 'dog', 'a\u0000b'],
      [' cat', 'dog', 'bird'],
      'cat,dog,bird',
    ])
      assert.throws(
        () => decodeHeader(Buffer.from(JSON.stringify(withNames(names)))),
        bad,
        JSON.stringify(names),
      )
  })

  it("a CSV's word labels name the classes in order of first appearance", async (t) => {
    const dir = await tempDir(t)
    const file = await writeText(
      dir,
      'pets.csv',
      'w,h,label\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,bird\n',
    )
    const store = await openStore(t)
    const { key, header: h } = await importDataset(store, { file })
    assert.deepEqual(h.layout.kind === 'tensors' && h.layout.labels, {
      dtype: 'int32',
      classes: 3,
      names: ['dog', 'cat', 'bird'],
    })
    const ds = await store.openLocal(key)
    defer(t, () => ds.close())
    const shard = await ds.readShard(0)
    assert.ok(shard.kind === 'tensors')
    assert.deepEqual([...shard.y], [0, 1, 0, 2])
  })

  it('--class-names names numbered classes; a wrong list is BAD_ARGUMENT', async (t) => {
    const dir = await tempDir(t)
    const file = await writeText(dir, 'n.csv', '1,2,0\n3,4,1\n5,6,2\n')
    const store = await openStore(t)
    const { header: h } = await importDataset(store, { file, classNames: ['low', 'mid', 'high'] })
    assert.deepEqual(h.layout.kind === 'tensors' && h.layout.labels.names, ['low', 'mid', 'high'])
    for (const classNames of [
      ['low', 'mid'],
      ['low', 'low', 'high'],
      ['low', '', 'high'],
    ])
      assert.equal(await code(importDataset(store, { file, classNames })), 'BAD_ARGUMENT')
    const text = await writeText(dir, 't.txt', 'hello')
    assert.equal(
      await code(importDataset(store, { file: text, classNames: ['a'] })),
      'BAD_ARGUMENT',
    )
    const words = await writeText(dir, 'w.csv', 'x,label\n1,cat\n2,dog\n')
    assert.equal(
      await code(importDataset(store, { file: words, classNames: ['a', 'b'] })),
      'BAD_ARGUMENT',
    )
  })

  it('label the classes "try it" returns', async () => {
    const spec = tinyMlp()
    const weights = initialWeights(spec, 3)
    const features = new Float32Array(spec.type === 'mlp' ? spec.inputSize : 0).fill(0.5)
    const names = ['cat', 'dog', 'bird']
    const named = await classify(spec, weights, features, 3, names)
    for (const c of named.top) assert.equal(c.label, names[c.index])
    const plain = await classify(spec, weights, features, 3)
    assert.ok(plain.top.every((c) => c.label === undefined))
  })
})
