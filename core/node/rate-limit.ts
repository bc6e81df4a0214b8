/**
 * Upload and download caps for swarm traffic (the contributor's "KiB/s" settings): one token
 * bucket per direction, shared by every connection, so the cap is for the whole node however
 * many peers it has. Caps change live; 0 means unlimited.
 *
 * Where it acts, and why there. A Hyperswarm connection is a NoiseSecretStream (a streamx Duplex)
 * over a UDX stream. Everything that uses it — protomux, corestore replication, the control
 * channel — writes with `write()` and obeys its backpressure, and reads what the stream pushes.
 * - Upload: the stream's `_write` (the step that encrypts one message and hands it to UDX) waits
 *   for tokens. streamx queues writes behind a pending `_write`, `write()` starts returning false,
 *   and hypercore and protomux stop producing: ordinary backpressure, no extra buffering here.
 * - Download: each plaintext message the stream pushes takes tokens; while the bucket is in debt,
 *   `push` reports "full" (so the secret stream pauses its UDX stream) and the stream's `_read`
 *   (which resumes UDX) waits for tokens. UDX then stops acknowledging beyond its window and the
 *   sender slows: the cap reaches the remote through flow control, not by dropping data.
 * Pausing the readable side (`stream.pause()`) would be simpler but protomux pauses and resumes
 * the same flag for its own buffering; the two would override each other.
 *
 * These are instance overrides of secret-stream's protected methods (checked to exist when a
 * connection is attached, and restored on detach); the loopback integration test pins the
 * behaviour on the version we ship. Counted: plaintext payload bytes. Noise framing (3 + 17 bytes
 * a message), UDP headers and DHT traffic are outside the caps (a few percent at most).
 *
 * The bucket allows debt: a message larger than the burst is sent whole once the balance is not
 * negative, then the balance goes below zero and the next one waits, so the average stays at the
 * cap without splitting messages.
 */
import type { Settings } from '../api/contract.js'
import { TandemError } from '../api/errors.js'

export interface RateCaps {
  /** KiB/s; 0 = unlimited. */
  uploadKiBps: number
  downloadKiBps: number
}

export function capsFromSettings(s: Pick<Settings, 'uploadKiBps' | 'downloadKiBps'>): RateCaps {
  return { uploadKiBps: s.uploadKiBps, downloadKiBps: s.downloadKiBps }
}

export interface BucketOptions {
  /**
   * Seconds of traffic the bucket may hold when unused (default 0.5). Enough to make up for a
   * short stall (a busy event loop, a retransmission) without a visible burst above the cap.
   */
  burstSec?: number
  /** Clock in ms (tests). */
  now?: () => number
}

const MIN_BURST_BYTES = 4096

/**
 * A token bucket: `rate` bytes per second (0 = unlimited), holding at most `rate × burstSec`.
 * `consume` may take the balance below zero; `whenReady` runs callbacks in order once it is not
 * negative.
 */
export class ByteRateBucket {
  private rate = 0
  private balance = 0
  private last: number
  private readonly waiters: Array<() => void> = []
  private timer: NodeJS.Timeout | null = null
  private readonly burstSec: number
  private readonly now: () => number
  /** How many callbacks had to wait. */
  waits = 0

  constructor(bytesPerSec: number, opts: BucketOptions = {}) {
    this.burstSec = opts.burstSec ?? 0.5
    this.now = opts.now ?? (() => performance.now())
    this.last = this.now()
    this.setRate(bytesPerSec)
  }

  get bytesPerSec(): number {
    return this.rate
  }

  /** Changes the rate now; waiting callbacks are rescheduled (all released when unlimited). */
  setRate(bytesPerSec: number): void {
    if (!(bytesPerSec >= 0) || !Number.isFinite(bytesPerSec)) {
      throw new TandemError('BAD_ARGUMENT', `rate must be a finite number ≥ 0, not ${bytesPerSec}`)
    }
    this.refill()
    const wasUnlimited = this.rate === 0
    this.rate = bytesPerSec
    // Coming from unlimited, the balance is meaningless: start level, neither owed nor saved.
    if (wasUnlimited || bytesPerSec === 0) this.balance = 0
    this.balance = Math.min(this.balance, this.capacity())
    this.wake()
  }

  /** Takes `bytes` now (the balance may go negative). */
  consume(bytes: number): void {
    if (this.rate === 0) return
    this.refill()
    this.balance -= bytes
  }

  /** Whether a `whenReady` callback would run at once. */
  ready(): boolean {
    if (this.rate === 0) return true
    this.refill()
    return this.balance >= 0 && this.waiters.length === 0
  }

  /** Runs `fn` once the balance is not negative, after earlier waiters. Returns a canceller. */
  whenReady(fn: () => void): () => void {
    if (this.ready()) {
      fn()
      return () => {}
    }
    this.waiters.push(fn)
    this.waits++
    this.schedule()
    return () => {
      const i = this.waiters.indexOf(fn)
      if (i >= 0) this.waiters.splice(i, 1)
      if (this.waiters.length === 0) this.clearTimer()
    }
  }

  /** Releases every waiter now (shutdown); the bucket stays usable. */
  releaseAll(): void {
    this.clearTimer()
    for (const fn of this.waiters.splice(0)) fn()
  }

  private capacity(): number {
    return Math.max(MIN_BURST_BYTES, this.rate * this.burstSec)
  }

  private refill(): void {
    const now = this.now()
    if (this.rate > 0) {
      this.balance = Math.min(
        this.capacity(),
        this.balance + ((now - this.last) / 1000) * this.rate,
      )
    }
    this.last = now
  }

  private wake(): void {
    this.clearTimer()
    while (this.waiters.length > 0) {
      if (this.rate > 0) {
        this.refill()
        if (this.balance < 0) break
      }
      this.waiters.shift()!()
    }
    if (this.waiters.length > 0) this.schedule()
  }

  private schedule(): void {
    if (this.timer !== null || this.rate === 0) return
    const ms = Math.max(1, Math.ceil((-this.balance / this.rate) * 1000))
    this.timer = setTimeout(() => {
      this.timer = null
      this.wake()
    }, ms)
    this.timer.unref()
  }

  private clearTimer(): void {
    if (this.timer === null) return
    clearTimeout(this.timer)
    this.timer = null
  }
}

/** The protected streamx / secret-stream methods the limiter wraps on one connection. */
interface SecretStreamInternals {
  _write(data: Uint8Array, cb: (err?: Error | null) => void): void
  _read(cb: (err?: Error | null) => void): void
  _predestroy(): void
  push(data: Uint8Array | null): boolean
  once(event: 'close', fn: () => void): unknown
}

export interface RateLimiterStats {
  uploadKiBps: number
  downloadKiBps: number
  /** Plaintext bytes through attached connections. */
  bytesUp: number
  bytesDown: number
  /** Writes / reads that had to wait for tokens. */
  uploadWaits: number
  downloadWaits: number
  connections: number
}

/** One node's caps: attach every swarm connection (SwarmNode's `wrapConnection`). */
export class RateLimiter {
  private readonly up: ByteRateBucket
  private readonly down: ByteRateBucket
  private current: RateCaps
  private readonly attached = new Set<() => void>()
  private bytesUp = 0
  private bytesDown = 0

  constructor(caps: RateCaps = { uploadKiBps: 0, downloadKiBps: 0 }, opts: BucketOptions = {}) {
    this.current = { ...caps }
    this.up = new ByteRateBucket(caps.uploadKiBps * 1024, opts)
    this.down = new ByteRateBucket(caps.downloadKiBps * 1024, opts)
  }

  get caps(): RateCaps {
    return { ...this.current }
  }

  /** Applies new caps to every connection at once. */
  setCaps(caps: RateCaps): void {
    this.up.setRate(caps.uploadKiBps * 1024)
    this.down.setRate(caps.downloadKiBps * 1024)
    this.current = { ...caps }
  }

  stats(): RateLimiterStats {
    return {
      ...this.current,
      bytesUp: this.bytesUp,
      bytesDown: this.bytesDown,
      uploadWaits: this.up.waits,
      downloadWaits: this.down.waits,
      connections: this.attached.size,
    }
  }

  /**
   * Throttles one connection (a NoiseSecretStream) until it closes; returns a function that
   * detaches it earlier. Throws BAD_ARGUMENT for a stream without the expected internals.
   */
  attach(stream: object): () => void {
    const s = stream as SecretStreamInternals
    for (const name of ['_write', '_read', '_predestroy', 'push', 'once'] as const) {
      if (typeof s[name] !== 'function') {
        throw new TandemError('BAD_ARGUMENT', `cannot throttle this stream: no ${name}()`)
      }
    }
    const own = (['_write', '_read', '_predestroy', 'push'] as const).filter((k) =>
      Object.hasOwn(s, k),
    )
    if (own.length > 0) throw new TandemError('WRONG_STATE', 'stream is already throttled')
    const write = s._write
    const read = s._read
    const predestroy = s._predestroy
    const push = s.push
    /** Calls held back by a bucket: `run` lets one through, `abort` fails it on destroy. */
    const pending = new Set<{ cancel: () => void; run: () => void; abort: () => void }>()
    const gate = (bucket: ByteRateBucket, run: () => void, abort: () => void) => {
      if (bucket.ready()) return run()
      const held = { cancel: () => {}, run, abort }
      pending.add(held)
      held.cancel = bucket.whenReady(() => {
        pending.delete(held)
        run()
      })
    }
    const release = (how: 'run' | 'abort') => {
      for (const held of [...pending]) {
        held.cancel()
        pending.delete(held)
        held[how]()
      }
    }

    s._write = (data, cb) =>
      gate(
        this.up,
        () => {
          this.up.consume(data.byteLength)
          this.bytesUp += data.byteLength
          write.call(s, data, cb)
        },
        () => cb(new Error('stream destroyed')),
      )
    s._read = (cb) =>
      gate(
        this.down,
        () => read.call(s, cb),
        () => cb(null),
      )
    s.push = (data) => {
      const room = push.call(s, data)
      if (data === null) return room
      this.down.consume(data.byteLength)
      this.bytesDown += data.byteLength
      // "Full" while in debt: the secret stream then pauses its UDX stream until _read.
      return room && this.down.ready()
    }
    s._predestroy = () => {
      // streamx waits for a pending _write/_read callback before destroying: release them.
      release('abort')
      predestroy.call(s)
    }

    const detach = () => {
      if (!this.attached.delete(detach)) return
      release('run') // let held calls through, unthrottled
      delete (s as Partial<SecretStreamInternals>)._write
      delete (s as Partial<SecretStreamInternals>)._read
      delete (s as Partial<SecretStreamInternals>)._predestroy
      delete (s as Partial<SecretStreamInternals>).push
    }
    this.attached.add(detach)
    s.once('close', detach)
    return detach
  }

  /** Detaches every connection and releases anything waiting. */
  close(): void {
    for (const detach of [...this.attached]) detach()
    this.up.releaseAll()
    this.down.releaseAll()
  }
}
