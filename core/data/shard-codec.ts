/**
 * Shard blocks: fixed-size records, little-endian. Token shards are the token ids back to back;
 * tensor shards are all records' features, then all records' labels (columnar, so the features
 * decode with one typed-array copy).
 */
import { endianness } from 'node:os'
import { TandemError } from '../api/errors.js'
import {
  dtypeBytes,
  featureCount,
  shardByteLength,
  shardRecordCount,
  type DatasetHeader,
  type Dtype,
  type TensorLayout,
  vocabSize,
} from './header.js'

// Typed arrays use the host's byte order; the format is little-endian. Every platform Node ships
// for is little-endian, so say so loudly rather than silently misread data.
if (endianness() !== 'LE') throw new Error('Tandem datasets need a little-endian host')

export type Numeric = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Float32Array

export interface TokenShard {
  kind: 'tokens'
  tokens: Uint8Array | Uint16Array
}

export interface TensorShard {
  kind: 'tensors'
  count: number
  /** Stored feature values (multiply by layout.scale for floats). */
  x: Numeric
  y: Uint8Array | Int32Array
}

export type DecodedShard = TokenShard | TensorShard

/** Copies into a fresh, aligned buffer so that multi-byte views are legal whatever the offset. */
function view(bytes: Uint8Array, dtype: Dtype): Numeric {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  const n = bytes.byteLength / dtypeBytes(dtype)
  switch (dtype) {
    case 'uint8':
      return copy
    case 'int8':
      return new Int8Array(copy.buffer, 0, n)
    case 'uint16':
      return new Uint16Array(copy.buffer, 0, n)
    case 'int16':
      return new Int16Array(copy.buffer, 0, n)
    case 'int32':
      return new Int32Array(copy.buffer, 0, n)
    case 'float32':
      return new Float32Array(copy.buffer, 0, n)
  }
}

export function decodeShard(header: DatasetHeader, shard: number, block: Uint8Array): DecodedShard {
  const expected = shardByteLength(header, shard)
  if (block.byteLength !== expected) {
    throw new TandemError(
      'DATASET_INTEGRITY',
      `shard ${shard} is ${block.byteLength} bytes, header says ${expected}`,
    )
  }
  const layout = header.layout
  if (layout.kind === 'tokens') {
    const tokens = view(block, layout.dtype) as Uint8Array | Uint16Array
    // Peer data: an id past the vocabulary would index past an embedding table.
    const vocab = vocabSize(layout)
    for (const id of tokens) {
      if (id >= vocab) {
        throw new TandemError(
          'DATASET_INTEGRITY',
          `shard ${shard} has token id ${id}, vocabulary size ${vocab}`,
        )
      }
    }
    return { kind: 'tokens', tokens }
  }
  const count = shardRecordCount(header, shard)
  const xBytes = count * featureCount(layout) * dtypeBytes(layout.dtype)
  const x = view(block.subarray(0, xBytes), layout.dtype)
  const y = view(block.subarray(xBytes), layout.labels.dtype) as Uint8Array | Int32Array
  for (const label of y) {
    if (label < 0 || label >= layout.labels.classes) {
      throw new TandemError('DATASET_INTEGRITY', `shard ${shard} has label ${label} out of range`)
    }
  }
  return { kind: 'tensors', count, x, y }
}

/** Writes record `i` of a tensor shard, scaled, into `out` at `offset` (in floats). */
export function copyScaledFeatures(
  layout: TensorLayout,
  shard: TensorShard,
  i: number,
  out: Float32Array,
  offset: number,
): void {
  const n = featureCount(layout)
  const src = shard.x.subarray(i * n, (i + 1) * n)
  const scale = layout.scale
  if (scale === 1) {
    out.set(src, offset)
    return
  }
  for (let k = 0; k < n; k++) out[offset + k] = (src[k] as number) * scale
}
