/** Shard decoding range-checks what peers send: token ids against the vocabulary, labels. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { contentHashOf, sha256Hex, type DatasetHeader } from '../../../core/data/header.js'
import { decodeShard } from '../../../core/data/shard-codec.js'

function tokenHeader(block: Buffer): DatasetHeader {
  const hashes = [sha256Hex(block)]
  return {
    format: 'tandem-dataset',
    version: 1,
    name: 'chars',
    description: '',
    license: 'CC0-1.0',
    source: { importer: 'text', files: [] },
    layout: { kind: 'tokens', dtype: 'uint8', vocab: { kind: 'char', symbols: ['a', 'b', 'c'] } },
    records: block.length,
    shardRecords: block.length,
    shards: 1,
    validation: { shards: 0 },
    shardHashes: hashes,
    contentHash: contentHashOf(hashes),
  }
}

describe('shard codec', () => {
  it('decodes token ids inside the vocabulary', () => {
    const block = Buffer.from([0, 1, 2, 2])
    const shard = decodeShard(tokenHeader(block), 0, block)
    assert.deepEqual(shard.kind === 'tokens' && [...shard.tokens], [0, 1, 2, 2])
  })

  it('rejects a token id past the vocabulary with DATASET_INTEGRITY', () => {
    const block = Buffer.from([0, 1, 3, 2])
    assert.throws(() => decodeShard(tokenHeader(block), 0, block), {
      code: 'DATASET_INTEGRITY',
      message: /token id 3, vocabulary size 3/,
    })
  })
})
