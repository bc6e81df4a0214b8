/**
 * A dataset core opened for reading: its header, sparse downloads of chosen shards, and verified
 * shard reads. Hypercore's signed Merkle tree already rejects blocks the writer did not sign (from
 * any peer, with sparse downloads); the per-shard SHA-256 in the header is checked on top so a shard
 * is also pinned by the header's content hash, independent of the core's key.
 */
import type Hypercore from 'hypercore'
import { TandemError } from '../api/errors.js'
import {
  decodeHeader,
  sha256Hex,
  shardByteLength,
  trainingShardCount,
  type DatasetHeader,
} from './header.js'
import { decodeShard, type DecodedShard } from './shard-codec.js'

export interface DatasetStats {
  shardsRead: number
  bytesDownloaded: number
  bytesUploaded: number
  /** Blocks peers sent that failed hypercore's verification (never stored). */
  verificationErrors: number
  /** Shards whose bytes did not match the header's hash. */
  integrityFailures: number
}

export interface ReadOptions {
  /** ms to wait for peers when the shard is not local; 0 waits forever. Default 60 s. */
  timeoutMs?: number
  /** false: fail at once with DATASET_UNAVAILABLE when the shard is not local. */
  wait?: boolean
}

const DEFAULT_TIMEOUT_MS = 60_000

/** Shard i lives in block i + 1; block 0 is the header. */
export const shardBlock = (shard: number): number => shard + 1

export class Dataset {
  readonly stats: DatasetStats = {
    shardsRead: 0,
    bytesDownloaded: 0,
    bytesUploaded: 0,
    verificationErrors: 0,
    integrityFailures: 0,
  }

  private constructor(
    readonly core: Hypercore,
    readonly header: DatasetHeader,
  ) {
    core.on('download', (_i, bytes) => void (this.stats.bytesDownloaded += bytes))
    core.on('upload', (_i, bytes) => void (this.stats.bytesUploaded += bytes))
    core.on('verification-error', () => void this.stats.verificationErrors++)
  }

  /** Reads and checks the header, waiting for peers if it is not local. Closes `core` on failure. */
  static async open(core: Hypercore, opts: ReadOptions = {}): Promise<Dataset> {
    try {
      await core.ready()
      const block = await getBlock(core, 0, opts, 'the header')
      const header = decodeHeader(block)
      if (core.length > header.shards + 1) {
        throw new TandemError(
          'DATASET_BAD_HEADER',
          `core has ${core.length} blocks but its header describes ${header.shards} shards`,
        )
      }
      return new Dataset(core, header)
    } catch (err) {
      // The rethrown error says what failed; closing the half-open core is cleanup.
      await core.close().catch(() => {})
      throw err
    }
  }

  get key(): Buffer {
    return this.core.key!
  }

  get keyHex(): string {
    return this.core.key!.toString('hex')
  }

  get discoveryKey(): Buffer {
    return this.core.discoveryKey!
  }

  get trainingShards(): number {
    return trainingShardCount(this.header)
  }

  shardBytes(shard: number): number {
    return shardByteLength(this.header, shard)
  }

  async hasShard(shard: number): Promise<boolean> {
    this.checkShard(shard)
    return shardBlock(shard) < this.core.length && (await this.core.has(shardBlock(shard)))
  }

  /** Shards stored on this node. */
  async localShards(): Promise<number[]> {
    const out: number[] = []
    for (let s = 0; s < this.header.shards; s++) if (await this.hasShard(s)) out.push(s)
    return out
  }

  async localBytes(): Promise<number> {
    let total = 0
    for (const s of await this.localShards()) total += this.shardBytes(s)
    return total
  }

  /** Starts a sparse download of these shards only; `await d.done()` to wait for all of them. */
  download(shards: number[]): Hypercore.Download {
    for (const s of shards) this.checkShard(s)
    return this.core.download({ blocks: shards.map(shardBlock) })
  }

  /** The shard's raw block, checked against the header's hash. */
  async readShardBytes(shard: number, opts: ReadOptions = {}): Promise<Buffer> {
    this.checkShard(shard)
    const block = await getBlock(this.core, shardBlock(shard), opts, `shard ${shard}`)
    if (sha256Hex(block) !== this.header.shardHashes[shard]) {
      this.stats.integrityFailures++
      throw new TandemError(
        'DATASET_INTEGRITY',
        `shard ${shard} does not match the hash in the dataset header`,
      )
    }
    this.stats.shardsRead++
    return block
  }

  async readShard(shard: number, opts: ReadOptions = {}): Promise<DecodedShard> {
    return decodeShard(this.header, shard, await this.readShardBytes(shard, opts))
  }

  /** Drops local copies (peers are told); the header block is always kept. */
  async clearShards(shards: number[]): Promise<void> {
    for (const s of shards) {
      this.checkShard(s)
      await this.core.clear(shardBlock(s))
    }
  }

  close(): Promise<void> {
    return this.core.close()
  }

  private checkShard(shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.header.shards) {
      throw new TandemError(
        'BAD_ARGUMENT',
        `shard ${shard} out of range [0, ${this.header.shards})`,
      )
    }
  }
}

async function getBlock(
  core: Hypercore,
  index: number,
  opts: ReadOptions,
  what: string,
): Promise<Buffer> {
  const wait = opts.wait !== false
  let block: Buffer | null
  try {
    block = await core.get(index, {
      wait,
      timeout: wait ? (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) : 0,
    })
  } catch (err) {
    const code = (err as { code?: string }).code
    throw new TandemError(
      'DATASET_UNAVAILABLE',
      `${what} could not be fetched from peers${code ? ` (${code})` : ''}`,
      { cause: err },
    )
  }
  if (!block) throw new TandemError('DATASET_UNAVAILABLE', `${what} is not stored on this node`)
  return block
}
