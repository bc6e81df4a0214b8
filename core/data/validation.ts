/**
 * The held-out validation split (the header's last `validation.shards` shards), read in a fixed
 * order with no randomness: every scorer that reads it sees the same batches, so the host's
 * validation-loss scores can be replayed by an auditor.
 */
import type { Batch } from '../engine/batch.js'
import { TandemError } from '../api/errors.js'
import {
  buildTensorBatch,
  buildTokenBatch,
  checkSeqLen,
  resolveShape,
  tensorLayoutOf,
  type RecordRef,
  type WindowRef,
} from './batching.js'
import type { Dataset, ReadOptions } from './dataset.js'
import { validationShardIndices } from './header.js'

export interface ValidationOptions {
  batchSize: number
  /** Token datasets: windows of seqLen + 1 tokens, back to back (stride seqLen + 1). */
  seqLen?: number
  shape?: number[]
  /** Stop after this many batches (a fixed prefix of the split). */
  maxBatches?: number
  read?: ReadOptions
}

/** The validation shards' records in order; the last batch may be smaller than batchSize. */
export async function* validationBatches(
  dataset: Dataset,
  opts: ValidationOptions,
): AsyncGenerator<Batch> {
  const h = dataset.header
  const shards = validationShardIndices(h)
  if (!shards.length) {
    throw new TandemError('NOT_FOUND', `dataset "${h.name}" has no validation split`)
  }
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new TandemError('BAD_ARGUMENT', 'batchSize must be a positive integer')
  }
  const max = opts.maxBatches ?? Infinity
  const seqLen = h.layout.kind === 'tokens' ? checkSeqLen(h, opts.seqLen) : 0
  const shape = h.layout.kind === 'tensors' ? resolveShape(tensorLayoutOf(h), opts.shape) : []
  let pending: Array<RecordRef | WindowRef> = []
  let emitted = 0
  const emit = (items: Array<RecordRef | WindowRef>): Batch =>
    h.layout.kind === 'tokens'
      ? buildTokenBatch(seqLen, items as WindowRef[])
      : buildTensorBatch(h.layout, shape, items as RecordRef[])

  // Download the whole split up front: it is small and read in full.
  const download = dataset.download(shards)
  try {
    for (const s of shards) {
      const shard = await dataset.readShard(s, opts.read)
      if (shard.kind === 'tensors') {
        for (let i = 0; i < shard.count; i++) pending.push({ shard, index: i })
      } else {
        const w = seqLen + 1
        for (let start = 0; start + w <= shard.tokens.length; start += w)
          pending.push({ shard, start })
      }
      while (pending.length >= opts.batchSize && emitted < max) {
        yield emit(pending.slice(0, opts.batchSize))
        pending = pending.slice(opts.batchSize)
        emitted++
      }
      if (emitted >= max) return
    }
    if (pending.length && emitted < max) yield emit(pending)
  } finally {
    download.destroy()
  }
}

/** The first validation batch: a quick, fixed probe of validation loss. */
export async function validationBatch(dataset: Dataset, opts: ValidationOptions): Promise<Batch> {
  for await (const batch of validationBatches(dataset, { ...opts, maxBatches: 1 })) return batch
  throw new TandemError('NOT_FOUND', 'the validation split holds no complete window')
}
