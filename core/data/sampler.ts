/**
 * The engine's DataSource over a contributor's assigned shards. Each epoch visits the shards in a
 * seeded order, `mixShards` at a time; the records (or token windows) of those shards are shuffled
 * together and cut into batches. While one group trains, the next `prefetch` shards download.
 * Batches are a pure function of (dataset, shards, seed, options): download timing never matters.
 */
import type Hypercore from 'hypercore'
import type { Batch, DataSource } from '../engine/batch.js'
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
import type { DiskCap } from './disk-cap.js'
import { rngFor, shuffle } from './rng.js'

export interface SamplerOptions {
  /** Training shards to draw from, e.g. from assignShards(). */
  shards: number[]
  batchSize: number
  seed: string | number
  /** Token datasets: tokens per window input (each window holds seqLen + 1 tokens). */
  seqLen?: number
  /** Tensor datasets: batch shape per record, e.g. [28, 28, 1]; default the stored shape. */
  shape?: number[]
  /** Shards whose records are shuffled together (memory: about this many decoded shards). */
  mixShards?: number
  /** Shards downloaded ahead of the one being trained on. */
  prefetch?: number
  /** The project's disk budget; shards not needed soon are evicted to respect it. */
  diskCap?: DiskCap
  read?: ReadOptions
}

type Item = RecordRef | WindowRef

export class ShardSampler implements DataSource {
  private readonly shards: number[]
  private readonly mix: number
  private readonly prefetch: number
  private readonly seqLen: number
  private readonly shape: number[]
  private queue: Item[] = []
  private head = 0
  private epoch = -1
  private order: number[] = []
  private group = 0
  private downloads: Hypercore.Download[] = []
  /** Shards this sampler's last disk-cap plan reserved room for. */
  private reserved: number[] = []
  private closed = false

  constructor(
    readonly dataset: Dataset,
    private readonly opts: SamplerOptions,
  ) {
    const h = dataset.header
    if (!opts.shards.length) throw new TandemError('BAD_ARGUMENT', 'the sampler needs shards')
    for (const s of opts.shards) {
      if (!Number.isInteger(s) || s < 0 || s >= h.shards) {
        throw new TandemError('BAD_ARGUMENT', `shard ${s} is not in this dataset`)
      }
    }
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new TandemError('BAD_ARGUMENT', 'batchSize must be a positive integer')
    }
    this.shards = [...new Set(opts.shards)]
    this.mix = Math.max(1, opts.mixShards ?? 2)
    this.prefetch = Math.max(0, opts.prefetch ?? 2)
    this.seqLen = h.layout.kind === 'tokens' ? checkSeqLen(h, opts.seqLen) : 0
    this.shape = h.layout.kind === 'tensors' ? resolveShape(tensorLayoutOf(h), opts.shape) : []
  }

  async next(): Promise<Batch> {
    if (this.closed) throw new TandemError('WRONG_STATE', 'sampler is closed')
    let emptyGroups = 0
    while (this.queue.length - this.head < this.opts.batchSize) {
      const added = await this.loadNextGroup()
      emptyGroups = added ? 0 : emptyGroups + 1
      if (emptyGroups > this.shards.length) {
        throw new TandemError('NOT_FOUND', `the shards hold no window of ${this.seqLen + 1} tokens`)
      }
    }
    const items = this.queue.slice(this.head, this.head + this.opts.batchSize)
    this.head += this.opts.batchSize
    if (this.head > 4096) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    const layout = this.dataset.header.layout
    return layout.kind === 'tokens'
      ? buildTokenBatch(this.seqLen, items as WindowRef[])
      : buildTensorBatch(layout, this.shape, items as RecordRef[])
  }

  /** Stops prefetching. The dataset stays open (it belongs to the caller). */
  close(): void {
    this.closed = true
    for (const d of this.downloads) d.destroy()
    this.downloads = []
    this.opts.diskCap?.release(this.reserved)
    this.reserved = []
  }

  private epochOrder(epoch: number): number[] {
    return shuffle([...this.shards], rngFor(this.opts.seed, 'epoch', epoch))
  }

  /** The `n` shards after position `from` of the current epoch, running into the next one. */
  private upcoming(from: number, n: number): number[] {
    const out = this.order.slice(from, from + n)
    if (out.length < n) out.push(...this.epochOrder(this.epoch + 1).slice(0, n - out.length))
    return [...new Set(out)]
  }

  private async loadNextGroup(): Promise<number> {
    if (this.epoch < 0 || this.group * this.mix >= this.order.length) {
      this.epoch++
      this.order = this.epochOrder(this.epoch)
      this.group = 0
    }
    const start = this.group * this.mix
    const now = this.order.slice(start, start + this.mix)
    const soon = this.upcoming(start + this.mix, this.prefetch).filter((s) => !now.includes(s))
    await this.startDownloads(now, soon)

    const rng = rngFor(this.opts.seed, 'group', this.epoch, this.group)
    const items: Item[] = []
    for (const s of now) {
      const shard = await this.dataset.readShard(s, this.opts.read)
      if (shard.kind === 'tensors') {
        for (let i = 0; i < shard.count; i++) items.push({ shard, index: i })
      } else {
        const w = this.seqLen + 1
        const windows = Math.floor(shard.tokens.length / w)
        const span = shard.tokens.length - w
        for (let i = 0; i < windows; i++)
          items.push({ shard, start: Math.floor(rng() * (span + 1)) })
      }
    }
    this.opts.diskCap?.touch(now)
    shuffle(items, rng)
    for (const item of items) this.queue.push(item)
    this.group++
    return items.length
  }

  private async startDownloads(now: number[], soon: number[]): Promise<void> {
    const cap = this.opts.diskCap
    for (const d of this.downloads) d.destroy()
    this.downloads = []
    // The cancelled downloads' room goes back; whatever of them arrived is local and counted so.
    cap?.release(this.reserved)
    const wanted = cap ? (await cap.plan(now, soon)).download : [...now, ...soon]
    this.reserved = cap ? wanted : []
    const missing: number[] = []
    for (const s of wanted) if (!(await this.dataset.hasShard(s))) missing.push(s)
    if (missing.length) this.downloads.push(this.dataset.download(missing))
  }
}
