/** What every importer takes and returns; the orchestration is in ../import.ts. */
import { join } from 'node:path'
import { TandemError } from '../../api/errors.js'
import { MAX_BLOCK_BYTES, type DatasetHeader, type RecordLayout } from '../header.js'
import type { InputFile, ProgressFn } from '../input.js'
import { ShardSpool, type SpoolOptions, type SpoolResult } from '../spool.js'

export const DEFAULT_SHARD_BYTES = 1 << 20

export interface ShardSize {
  /** Records (tokens, for text) per shard. Wins over `bytes`. */
  records?: number
  /** Target shard block size in bytes; records per shard is derived from the record size. */
  bytes?: number
}

export interface ImporterContext {
  /** A private temporary directory for the spool; removed by the caller. */
  tmpDir: string
  shardSize: ShardSize
  onProgress?: ProgressFn
  /** Aborts the import; every input read passes it on. */
  signal?: AbortSignal
}

export interface ImporterResult {
  importer: DatasetHeader['source']['importer']
  files: InputFile[]
  layout: RecordLayout
  shardRecords: number
  spool: ShardSpool
  spooled: SpoolResult
}

export function pickShardRecords(recordBytes: number, size: ShardSize): number {
  const records = size.records ?? Math.floor((size.bytes ?? DEFAULT_SHARD_BYTES) / recordBytes)
  if (!Number.isSafeInteger(records) || records < 1) {
    throw new TandemError(
      'BAD_ARGUMENT',
      `shard size must hold at least one ${recordBytes}-byte record`,
    )
  }
  if (records * recordBytes > MAX_BLOCK_BYTES) {
    throw new TandemError(
      'BAD_ARGUMENT',
      `shards of ${records} records are ${records * recordBytes} bytes; the limit is ${MAX_BLOCK_BYTES}`,
    )
  }
  return records
}

export function createSpool(ctx: ImporterContext, opts: SpoolOptions): ShardSpool {
  return new ShardSpool(join(ctx.tmpDir, 'shards.spool'), opts)
}

export function emptyInput(file: InputFile): TandemError {
  return new TandemError('DATASET_MALFORMED_INPUT', `${file.name} holds no records`)
}
