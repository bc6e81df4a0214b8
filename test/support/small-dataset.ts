/** A small valid dataset (three byte-token shards) for tests that write cores directly. */
import { contentHashOf, sha256Hex, type DatasetHeader } from '../../core/data/header.js'

export const shards = [Buffer.alloc(10, 1), Buffer.alloc(10, 2), Buffer.alloc(5, 3)]
const hashes = shards.map((s) => sha256Hex(s))
export const header: DatasetHeader = {
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
