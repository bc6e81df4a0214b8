import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  contentHashOf,
  decodeHeader,
  encodeHeader,
  sha256Hex,
  type DatasetHeader,
} from '../../../core/data/header.js'

const hashes = ['a', 'b', 'c'].map((s) => sha256Hex(Buffer.from(s)))
const header: DatasetHeader = {
  format: 'tandem-dataset',
  version: 1,
  name: 'tiny',
  description: '',
  license: 'CC0-1.0',
  source: { importer: 'text', files: ['tiny.txt'] },
  layout: { kind: 'tokens', dtype: 'uint8', vocab: { kind: 'byte' } },
  records: 25,
  shardRecords: 10,
  shards: 3,
  validation: { shards: 1 },
  shardHashes: hashes,
  contentHash: contentHashOf(hashes),
}

const raw = (value: unknown) => Buffer.from(JSON.stringify(value))

describe('dataset header (block 0)', () => {
  it('round-trips through its JSON encoding', () => {
    assert.deepEqual(decodeHeader(encodeHeader(header)), header)
  })

  it('rejects what is not a header with DATASET_BAD_HEADER', () => {
    const bad = { code: 'DATASET_BAD_HEADER' }
    assert.throws(() => decodeHeader(null), bad)
    assert.throws(() => decodeHeader(Buffer.from([0xff, 0xfe])), bad)
    assert.throws(() => decodeHeader(Buffer.from('hello')), bad)
    assert.throws(() => decodeHeader(raw({ ...header, format: 'other' })), bad)
    assert.throws(() => decodeHeader(raw({ ...header, version: 2 })), bad)
  })

  it('rejects headers whose numbers do not add up', () => {
    const bad = { code: 'DATASET_BAD_HEADER' }
    assert.throws(() => decodeHeader(raw({ ...header, shards: 4 })), bad)
    assert.throws(() => decodeHeader(raw({ ...header, shardHashes: hashes.slice(1) })), bad)
    assert.throws(() => decodeHeader(raw({ ...header, validation: { shards: 3 } })), bad)
    assert.throws(() => decodeHeader(raw({ ...header, records: -1 })), bad)
    assert.throws(() => decodeHeader(raw({ ...header, shardRecords: 16 << 20, shards: 1 })), bad)
  })
})
