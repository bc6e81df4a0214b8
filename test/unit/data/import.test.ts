/** Importers: each format round-trips, and every kind of bad input fails coded, leaving nothing. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { gzipSync } from 'node:zlib'
import { isTandemError, TandemError } from '../../../core/api/errors.js'
import type { DatasetStore } from '../../../core/data/dataset-store.js'
import { importDataset, type ImportOptions } from '../../../core/data/import.js'
import {
  idxBytes,
  leftoverTempFiles,
  openStore,
  storedCoreCount,
  tempDir,
  writeSyntheticIdx,
  writeText,
  defer,
} from '../../support/data.js'

async function expectFailure(
  t: TestContext,
  opts: ImportOptions,
  code: string,
  store?: DatasetStore,
): Promise<void> {
  const s = store ?? (await openStore(t))
  await assert.rejects(importDataset(s, opts), (err) => {
    assert.ok(isTandemError(err), `expected a TandemError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  })
  assert.deepEqual(s.list(), [], 'no dataset is listed')
  assert.equal(await storedCoreCount(s), 0, 'no core is stored')
  assert.deepEqual(await leftoverTempFiles(s), [], 'no temp files remain')
}

describe('text import', () => {
  it('byte vocabulary: tokens are the UTF-8 bytes, sharded as asked', async (t) => {
    const dir = await tempDir(t)
    const text = 'héllo wörld, '.repeat(50)
    const file = await writeText(dir, 'corpus.txt', text)
    const store = await openStore(t)
    const { key, header } = await importDataset(store, { file, shardSize: { records: 100 } })
    const bytes = Buffer.from(text)
    assert.equal(header.records, bytes.length)
    assert.equal(header.shards, Math.ceil(bytes.length / 100))
    assert.deepEqual(header.layout, { kind: 'tokens', dtype: 'uint8', vocab: { kind: 'byte' } })
    assert.equal(header.name, 'corpus')
    const ds = await store.openLocal(key)
    defer(t, () => ds.close())
    const parts = []
    for (let s = 0; s < header.shards; s++) parts.push(await ds.readShardBytes(s))
    assert.deepEqual(Buffer.concat(parts), bytes)
    assert.deepEqual(
      store.list().map((e) => e.key),
      [key],
    )
  })

  it('char vocabulary: ids index the sorted distinct code points', async (t) => {
    const dir = await tempDir(t)
    const file = await writeText(dir, 'c.txt', 'abcab€😀')
    const store = await openStore(t)
    const { key, header } = await importDataset(store, { file, vocab: 'char' })
    assert.equal(header.layout.kind, 'tokens')
    if (header.layout.kind !== 'tokens' || header.layout.vocab.kind !== 'char') return
    assert.deepEqual(header.layout.vocab.symbols, ['a', 'b', 'c', '€', '😀'])
    const ds = await store.openLocal(key)
    defer(t, () => ds.close())
    const shard = await ds.readShard(0)
    assert.equal(shard.kind, 'tokens')
    if (shard.kind === 'tokens') assert.deepEqual([...shard.tokens], [0, 1, 2, 0, 1, 3, 4])
  })

  it('rejects invalid UTF-8 and a file cut inside a character', async (t) => {
    const dir = await tempDir(t)
    const bad = await writeText(dir, 'bad.txt', Buffer.from([0x61, 0xff, 0x62, 0x0a]))
    await expectFailure(t, { file: bad }, 'DATASET_MALFORMED_INPUT')
    await expectFailure(t, { file: bad, vocab: 'char' }, 'DATASET_MALFORMED_INPUT')
    const cut = await writeText(dir, 'cut.txt', Buffer.from('añ').subarray(0, 2))
    await expectFailure(t, { file: cut }, 'DATASET_TRUNCATED_INPUT')
  })

  it('rejects an empty file', async (t) => {
    const file = await writeText(await tempDir(t), 'empty.txt', '')
    await expectFailure(t, { file }, 'DATASET_MALFORMED_INPUT')
  })
})

describe('IDX import', () => {
  for (const gzip of [false, true]) {
    it(`imports images + labels (${gzip ? 'gzip' : 'raw'}), scaled to [0, 1]`, async (t) => {
      const dir = await tempDir(t)
      const src = await writeSyntheticIdx(dir, 50, { gzip })
      const store = await openStore(t)
      const { key, header } = await importDataset(store, {
        file: src.images,
        labels: src.labels,
        shardSize: { records: 8 },
        validation: 0.2,
      })
      assert.equal(header.records, 50)
      assert.equal(header.shards, 7)
      assert.equal(header.validation.shards, 1)
      assert.deepEqual(header.layout, {
        kind: 'tensors',
        shape: [4, 3],
        dtype: 'uint8',
        scale: 1 / 255,
        labels: { dtype: 'uint8', classes: 3 },
      })
      const ds = await store.openLocal(key)
      defer(t, () => ds.close())
      const shard = await ds.readShard(6)
      assert.equal(shard.kind, 'tensors')
      if (shard.kind !== 'tensors') return
      assert.equal(shard.count, 2)
      assert.deepEqual([...shard.x], [...src.pixels.subarray(48 * 12)])
      assert.deepEqual([...shard.y], [...src.labelValues.subarray(48)])
    })
  }

  it('rejects truncated images, raw and gzip, with no dataset left', async (t) => {
    const dir = await tempDir(t)
    const src = await writeSyntheticIdx(dir, 20)
    const images = await readFile(src.images)
    const cut = join(dir, 'cut-idx3-ubyte')
    await writeFile(cut, images.subarray(0, images.length - 5))
    await expectFailure(t, { file: cut, labels: src.labels }, 'DATASET_TRUNCATED_INPUT')
    const cutGz = join(dir, 'cut-idx3-ubyte.gz')
    const gz = gzipSync(images)
    await writeFile(cutGz, gz.subarray(0, gz.length - 20))
    await expectFailure(t, { file: cutGz, labels: src.labels }, 'DATASET_TRUNCATED_INPUT')
  })

  it('rejects corrupt gzip data', async (t) => {
    const dir = await tempDir(t)
    const src = await writeSyntheticIdx(dir, 20, { gzip: true })
    const gz = await readFile(src.images)
    for (let i = 20; i < 40; i++) gz[i] = gz[i]! ^ 0xff
    const bad = join(dir, 'bad-idx3-ubyte.gz')
    await writeFile(bad, gz)
    await expectFailure(
      t,
      { file: bad, labels: src.labels, format: 'idx' },
      'DATASET_MALFORMED_INPUT',
    )
  })

  it('rejects mismatched image and label counts', async (t) => {
    const dir = await tempDir(t)
    const src = await writeSyntheticIdx(dir, 20)
    const labels = join(dir, 'short-idx1-ubyte')
    await writeFile(labels, idxBytes(0x08, [19], new Uint8Array(19)))
    await expectFailure(t, { file: src.images, labels }, 'DATASET_MISMATCHED_INPUT')
  })

  it('rejects a bad magic number, trailing data, and a missing labels file', async (t) => {
    const dir = await tempDir(t)
    const src = await writeSyntheticIdx(dir, 10)
    const notIdx = join(dir, 'x-idx3-ubyte')
    await writeFile(notIdx, Buffer.from([0, 0, 0x42, 3, 0, 0, 0, 1]))
    await expectFailure(t, { file: notIdx, labels: src.labels }, 'DATASET_MALFORMED_INPUT')
    const long = join(dir, 'long-idx3-ubyte')
    await writeFile(long, Buffer.concat([await readFile(src.images), Buffer.from([1, 2, 3])]))
    await expectFailure(t, { file: long, labels: src.labels }, 'DATASET_MALFORMED_INPUT')
    await expectFailure(t, { file: src.images }, 'BAD_ARGUMENT')
  })
})

describe('CSV import', () => {
  it('uses the "label" column of a header row; features become float32', async (t) => {
    const dir = await tempDir(t)
    const file = await writeText(dir, 'd.csv', 'a,label,b\n0.5,1,-2\r\n1.5,0,3e2\n\n2.5,2,4\n')
    const store = await openStore(t)
    const { key, header } = await importDataset(store, { file })
    assert.deepEqual(header.layout, {
      kind: 'tensors',
      shape: [2],
      dtype: 'float32',
      scale: 1,
      labels: { dtype: 'int32', classes: 3 },
    })
    const ds = await store.openLocal(key)
    defer(t, () => ds.close())
    const shard = await ds.readShard(0)
    if (shard.kind !== 'tensors') throw new Error('tensors expected')
    assert.deepEqual([...shard.x], [0.5, -2, 1.5, 300, 2.5, 4])
    assert.deepEqual([...shard.y], [1, 0, 2])
  })

  it('takes the last column without a header, or the one named by --label-column', async (t) => {
    const dir = await tempDir(t)
    const file = await writeText(dir, 'n.csv', '1,2,0\n3,4,1')
    const store = await openStore(t)
    const last = await importDataset(store, { file })
    assert.equal(last.header.layout.kind === 'tensors' && last.header.layout.labels.classes, 2)
    const first = await importDataset(store, { file, labelColumn: '0' })
    assert.equal(first.header.layout.kind === 'tensors' && first.header.layout.labels.classes, 4)
  })

  it('rejects non-numbers, bad labels, ragged rows and a cut last row', async (t) => {
    const dir = await tempDir(t)
    const cases: Array<[string, string]> = [
      ['1,2,0\n3,x,1\n', 'DATASET_MALFORMED_INPUT'],
      ['1,2,0.5\n', 'DATASET_MALFORMED_INPUT'],
      ['1,2,-1\n', 'DATASET_MALFORMED_INPUT'],
      ['1,2,0\n3,4\n5,6,1\n', 'DATASET_MALFORMED_INPUT'],
      ['1,2,0\n3,4,1\n5,6', 'DATASET_TRUNCATED_INPUT'],
      ['a,b,label\n', 'DATASET_MALFORMED_INPUT'],
    ]
    for (const [i, [text, code]] of cases.entries()) {
      const file = await writeText(dir, `bad${i}.csv`, text)
      await expectFailure(t, { file }, code)
    }
  })
})

describe('import input checks', () => {
  it('rejects a CSV value that overflows float32, naming line and column', async (t) => {
    const file = await writeText(await tempDir(t), 'big.csv', '1,2,0\n3,1e39,1\n')
    await expectFailure(t, { file }, 'DATASET_MALFORMED_INPUT')
    await assert.rejects(importDataset(await openStore(t), { file }), /line 2, column 2/)
  })

  it('rejects NaN and infinite IDX float64 features, naming the record', async (t) => {
    const dir = await tempDir(t)
    const labels = join(dir, 'labels-idx1-ubyte')
    await writeFile(labels, idxBytes(0x08, [3], new Uint8Array([0, 1, 0])))
    for (const bad of [NaN, Infinity, 1e300]) {
      const data = Buffer.alloc(3 * 2 * 8)
      for (let i = 0; i < 6; i++) data.writeDoubleBE(i === 3 ? bad : i / 2, i * 8)
      const images = join(dir, 'f64-idx3-ubyte')
      await writeFile(images, idxBytes(0x0e, [3, 2], data))
      await expectFailure(t, { file: images, labels }, 'DATASET_MALFORMED_INPUT')
      await assert.rejects(importDataset(await openStore(t), { file: images, labels }), /record 1/)
    }
  })

  it('rejects IDX dimensions too large for a record with DATASET_MALFORMED_INPUT', async (t) => {
    const dir = await tempDir(t)
    const labels = join(dir, 'labels-idx1-ubyte')
    await writeFile(labels, idxBytes(0x08, [1], new Uint8Array(1)))
    const huge = join(dir, 'huge-idx3-ubyte')
    await writeFile(huge, idxBytes(0x08, [1, 65536, 65536], new Uint8Array(16)))
    await expectFailure(t, { file: huge, labels }, 'DATASET_MALFORMED_INPUT')
  })

  it('rejects a bad --validation before reading any input', async (t) => {
    const dir = await tempDir(t)
    const bad = await writeText(dir, 'bad.txt', Buffer.from([0x61, 0xff]))
    let read = false
    await expectFailure(
      t,
      { file: bad, validation: 1.5, onProgress: () => void (read = true) },
      'BAD_ARGUMENT',
    )
    assert.equal(read, false, 'the input was not read')
  })

  it('char vocabulary: a file rewritten between the two passes is refused', async (t) => {
    const dir = await tempDir(t)
    // More than one 1 MiB read chunk, so the rewrite lands mid-way through the second pass.
    const file = await writeText(dir, 'moving.txt', 'ab'.repeat(1 << 20))
    let rewritten = false
    await expectFailure(
      t,
      {
        file,
        vocab: 'char',
        onProgress: () => {
          if (rewritten) return
          rewritten = true
          writeFileSync(file, 'xyz'.repeat(1 << 20))
        },
      },
      'DATASET_MISMATCHED_INPUT',
    )
    assert.ok(rewritten)
  })

  it('an aborted import fails with its reason and leaves nothing', async (t) => {
    const file = await writeText(await tempDir(t), 'a.txt', 'x'.repeat(3 << 20))
    const abort = new AbortController()
    await expectFailure(
      t,
      {
        file,
        signal: abort.signal,
        onProgress: () => abort.abort(new TandemError('DATASET_IMPORT_ABORTED', 'SIGINT')),
      },
      'DATASET_IMPORT_ABORTED',
    )
  })

  it('reports the bytes of shard data written', async (t) => {
    const dir = await tempDir(t)
    const src = await writeSyntheticIdx(dir, 10, { gzip: true })
    const result = await importDataset(await openStore(t), { file: src.images, labels: src.labels })
    assert.equal(result.shardBytes, 10 * (12 + 1))
  })
})
