/**
 * Shards are built into a temporary spool file before any core exists. Block 0 (the header) must
 * carry the record count and every shard's hash, which are known only once the whole input has been
 * read; spooling also makes imports atomic for free: bad input fails before a core is created.
 */
import { createHash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { TandemError } from '../api/errors.js'

export interface SpoolOptions {
  shardRecords: number
  /** Bytes of one record's features (one token, for token layouts). */
  featureBytes: number
  /** Bytes of one record's label; 0 for token layouts. */
  labelBytes: number
}

export interface SpoolResult {
  records: number
  shardHashes: string[]
  shardSizes: number[]
}

export class ShardSpool {
  private fh: FileHandle | null = null
  private readonly x: Buffer
  private readonly y: Buffer
  private inShard = 0
  private records = 0
  private readonly hashes: string[] = []
  private readonly sizes: number[] = []

  constructor(
    readonly path: string,
    readonly opts: SpoolOptions,
  ) {
    this.x = Buffer.allocUnsafe(opts.shardRecords * opts.featureBytes)
    this.y = Buffer.allocUnsafe(opts.shardRecords * opts.labelBytes)
  }

  get recordCount(): number {
    return this.records
  }

  /** Appends whole records of features with no labels (token layouts): any number at once. */
  async pushRecords(bytes: Uint8Array): Promise<void> {
    const rb = this.opts.featureBytes
    let offset = 0
    while (offset < bytes.length) {
      const room = (this.opts.shardRecords - this.inShard) * rb
      const take = Math.min(room, bytes.length - offset)
      this.x.set(bytes.subarray(offset, offset + take), this.inShard * rb)
      this.inShard += take / rb
      this.records += take / rb
      offset += take
      if (this.inShard === this.opts.shardRecords) await this.flushShard()
    }
  }

  /** Appends one record: its encoded features and its encoded label. */
  async pushRecord(features: Uint8Array, label: Uint8Array): Promise<void> {
    this.x.set(features, this.inShard * this.opts.featureBytes)
    this.y.set(label, this.inShard * this.opts.labelBytes)
    this.inShard++
    this.records++
    if (this.inShard === this.opts.shardRecords) await this.flushShard()
  }

  private async flushShard(): Promise<void> {
    if (this.inShard === 0) return
    const xs = this.x.subarray(0, this.inShard * this.opts.featureBytes)
    const ys = this.y.subarray(0, this.inShard * this.opts.labelBytes)
    this.fh ??= await open(this.path, 'w')
    this.hashes.push(createHash('sha256').update(xs).update(ys).digest('hex'))
    this.sizes.push(xs.length + ys.length)
    await this.fh.writev([xs, ys])
    this.inShard = 0
  }

  async finish(): Promise<SpoolResult> {
    await this.flushShard()
    await this.fh?.close()
    this.fh = null
    return { records: this.records, shardHashes: this.hashes, shardSizes: this.sizes }
  }

  /** The spooled shards, in order, in batches of about `batchBytes` (to append several at once). */
  async *batches(sizes: number[], batchBytes = 8 << 20): AsyncGenerator<Buffer[]> {
    if (sizes.length === 0) return
    const fh = await open(this.path, 'r')
    try {
      let batch: Buffer[] = []
      let bytes = 0
      for (const size of sizes) {
        const shard = Buffer.allocUnsafe(size)
        const { bytesRead } = await fh.read(shard, 0, size)
        if (bytesRead !== size) {
          // Only another process deleting or truncating our temp file gets here.
          throw new TandemError(
            'INTERNAL',
            `spool file ${this.path} was cut short (${bytesRead} of ${size} bytes); was the temp dir cleaned during the import?`,
          )
        }
        batch.push(shard)
        bytes += size
        if (bytes >= batchBytes) {
          yield batch
          batch = []
          bytes = 0
        }
      }
      if (batch.length) yield batch
    } finally {
      await fh.close()
    }
  }

  async dispose(): Promise<void> {
    // Disposal runs on success and failure alike; the spool file is removed next, which is what
    // frees the space, so a failed close of its handle loses nothing.
    await this.fh?.close().catch(() => {})
    this.fh = null
  }
}
