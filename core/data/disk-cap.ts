/**
 * A project's disk budget for dataset shards. Before shards are downloaded the caller says which it
 * needs now and which soon (prefetch, next round); shards needed neither now nor soon are cleared
 * (`core.clear`, least recently used first) until everything fits. Soon-shards are admitted only
 * while they fit; needed-now shards that cannot fit are an error, never a silent overrun.
 *
 * Sizes are the shards' logical sizes from the header, which is what the user's limit means; the
 * storage engine's overhead and compaction lag are not counted. The header block is always kept.
 *
 * Shards a plan tells the caller to download are reserved until they are local (or `release`d):
 * a second plan made while they are still in flight counts them, so the cap holds even then.
 */
import { TandemError } from '../api/errors.js'
import type { Dataset } from './dataset.js'

export interface RoomPlan {
  /** Shards to download (not local yet): the needed ones, then the soon ones that fit. */
  download: number[]
  /** Shards cleared to make room. */
  evicted: number[]
}

export class DiskCap {
  private readonly lastUsed = new Map<number, number>()
  /** Shards handed out for download that are not local yet. */
  private readonly inFlight = new Set<number>()
  private clock = 0

  constructor(
    readonly dataset: Dataset,
    readonly capBytes: number,
  ) {
    if (!Number.isFinite(capBytes) || capBytes < 0) {
      throw new TandemError('BAD_ARGUMENT', 'disk cap must be a non-negative number of bytes')
    }
  }

  /** Marks shards as just used: they are the last to be evicted. */
  touch(shards: number[]): void {
    for (const s of shards) this.lastUsed.set(s, ++this.clock)
  }

  /** Gives back the room of downloads that were cancelled or failed. */
  release(shards: number[]): void {
    for (const s of shards) this.inFlight.delete(s)
  }

  async plan(now: number[], soon: number[] = []): Promise<RoomPlan> {
    const local = new Set(await this.dataset.localShards())
    for (const s of this.inFlight) if (local.has(s)) this.inFlight.delete(s)
    const size = (s: number) => this.dataset.shardBytes(s)
    const nowSet = new Set(now)
    const keep = new Set([...now, ...soon])
    const reservedBytes = [...this.inFlight].reduce((a, s) => a + size(s), 0)
    let used = [...local].reduce((a, s) => a + size(s), 0) + reservedBytes
    const needNow = [...nowSet].filter((s) => !local.has(s) && !this.inFlight.has(s))
    const needNowBytes = needNow.reduce((a, s) => a + size(s), 0)
    const nowBytes = [...nowSet].reduce((a, s) => a + size(s), 0)
    if (nowBytes > this.capBytes) {
      throw new TandemError(
        'DATASET_DISK_CAP',
        `the ${nowSet.size} shards needed now take ${nowBytes} bytes; the disk cap is ${this.capBytes}`,
      )
    }
    const candidates = [...local]
      .filter((s) => !keep.has(s))
      .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0))
    // Soon-shards already local may go too, latest-needed first, if the needed-now ones need room.
    const soonLocal = soon.filter((s) => local.has(s) && !nowSet.has(s)).reverse()
    const evictable = [...candidates, ...soonLocal].reduce((a, s) => a + size(s), 0)
    if (used - evictable + needNowBytes > this.capBytes) {
      // Only in-flight downloads can make this happen (nowBytes fits): refuse before evicting.
      throw new TandemError(
        'DATASET_DISK_CAP',
        `the shards needed now do not fit: ${reservedBytes} bytes of the ${this.capBytes}-byte disk cap are reserved for downloads in flight`,
      )
    }
    const evicted: number[] = []
    for (const s of [...candidates, ...soonLocal]) {
      if (used + needNowBytes <= this.capBytes) break
      evicted.push(s)
      used -= size(s)
    }
    const download = [...needNow]
    used += needNowBytes
    for (const s of soon) {
      if (nowSet.has(s) || local.has(s) || this.inFlight.has(s) || download.includes(s)) continue
      if (used + size(s) > this.capBytes) break
      download.push(s)
      used += size(s)
    }
    if (evicted.length) {
      await this.dataset.clearShards(evicted)
      for (const s of evicted) this.lastUsed.delete(s)
    }
    for (const s of download) this.inFlight.add(s)
    return { download, evicted }
  }
}
