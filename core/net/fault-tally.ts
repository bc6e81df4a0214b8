/**
 * Counts faults per remote identity inside a window, for faults too ambiguous to ban on the first
 * one (see stream-errors.ts): the peer is banned once its count reaches a small threshold. Identities
 * are free, so the table is capped: when full, the identity whose last fault is oldest makes room
 * (Map order, re-inserted on every fault). No timers: a count older than the window starts over.
 */
import { TandemError } from '../api/errors.js'

export interface FaultTallyOptions {
  /** Faults older than this no longer count. */
  windowMs: number
  /** Most identities tracked at once. */
  maxEntries: number
  now?: () => number
}

interface Entry {
  count: number
  since: number
}

export class FaultTally {
  private readonly entries = new Map<string, Entry>()
  private readonly now: () => number

  constructor(private readonly opts: FaultTallyOptions) {
    if (!(opts.windowMs > 0) || !Number.isSafeInteger(opts.maxEntries) || opts.maxEntries < 1) {
      throw new TandemError('BAD_ARGUMENT', 'fault tally needs windowMs > 0 and maxEntries ≥ 1')
    }
    this.now = opts.now ?? Date.now
  }

  get size(): number {
    return this.entries.size
  }

  /** Records one fault by `key`; returns its faults inside the window, this one included. */
  add(key: Uint8Array): number {
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')
    const now = this.now()
    const old = this.entries.get(id)
    this.entries.delete(id) // re-inserted last: the Map's first entry is the stalest
    const entry =
      old && now - old.since < this.opts.windowMs
        ? { count: old.count + 1, since: old.since }
        : { count: 1, since: now }
    if (this.entries.size >= this.opts.maxEntries) {
      const stalest = this.entries.keys().next()
      if (!stalest.done) this.entries.delete(stalest.value)
    }
    this.entries.set(id, entry)
    return entry.count
  }

  delete(key: Uint8Array): void {
    this.entries.delete(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex'))
  }
}
