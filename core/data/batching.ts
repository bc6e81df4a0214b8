/**
 * Building the engine's batch types (core/engine/batch.ts) from decoded shards. Shared by the
 * training sampler and the validation reader so both scale and lay out records identically.
 */
import type { TensorBatch, TokenBatch } from '../engine/batch.js'
import { TandemError } from '../api/errors.js'
import { featureCount, type DatasetHeader, type TensorLayout } from './header.js'
import { copyScaledFeatures, type TensorShard, type TokenShard } from './shard-codec.js'

/** One tensor record: a shard and a record index in it. */
export interface RecordRef {
  shard: TensorShard
  index: number
}

/** One token window: seqLen + 1 tokens from `start` in a shard. */
export interface WindowRef {
  shard: TokenShard
  start: number
}

export function tensorLayoutOf(header: DatasetHeader): TensorLayout {
  if (header.layout.kind !== 'tensors') {
    throw new TandemError('BAD_ARGUMENT', 'this dataset holds token text, not tensors')
  }
  return header.layout
}

/** The batch shape: the stored record shape unless the caller reshapes (same element count). */
export function resolveShape(layout: TensorLayout, shape?: number[]): number[] {
  if (!shape) return [...layout.shape]
  const n = shape.reduce((a, b) => a * b, 1)
  if (n !== featureCount(layout) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new TandemError(
      'BAD_ARGUMENT',
      `shape [${shape.join(', ')}] does not hold the dataset's ${featureCount(layout)} features`,
    )
  }
  return [...shape]
}

export function buildTensorBatch(
  layout: TensorLayout,
  shape: number[],
  items: RecordRef[],
): TensorBatch {
  const n = featureCount(layout)
  const x = new Float32Array(items.length * n)
  const y = new Int32Array(items.length)
  items.forEach((item, i) => {
    copyScaledFeatures(layout, item.shard, item.index, x, i * n)
    y[i] = item.shard.y[item.index]!
  })
  return { kind: 'tensors', batch: items.length, shape: [...shape], x, y }
}

export function buildTokenBatch(seqLen: number, items: WindowRef[]): TokenBatch {
  const w = seqLen + 1
  const tokens = new Int32Array(items.length * w)
  items.forEach((item, i) =>
    tokens.set(item.shard.tokens.subarray(item.start, item.start + w), i * w),
  )
  return { kind: 'tokens', batch: items.length, seqLen, tokens }
}

export function checkSeqLen(header: DatasetHeader, seqLen: number | undefined): number {
  if (header.layout.kind !== 'tokens') {
    throw new TandemError('BAD_ARGUMENT', 'this dataset holds tensors, not token text')
  }
  if (seqLen === undefined || !Number.isInteger(seqLen) || seqLen < 1) {
    throw new TandemError('BAD_ARGUMENT', 'a token dataset needs seqLen (a positive integer)')
  }
  if (seqLen + 1 > header.shardRecords) {
    throw new TandemError(
      'BAD_ARGUMENT',
      `seqLen ${seqLen} needs shards of at least ${seqLen + 1} tokens (this dataset: ${header.shardRecords})`,
    )
  }
  return seqLen
}
