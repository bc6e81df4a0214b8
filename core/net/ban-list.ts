/**
 * Peers banned for a while, by public key. Identities are free, so a hostile peer can earn any
 * number of bans: the table is capped (when full, the ban that would end soonest makes room) and
 * one timer, armed for the soonest expiry, ends bans on time (the node lifts hyperswarm's own sticky
 * ban then). Memory stays bounded whatever the number of identities.
 */
export interface Ban {
  key: string
  until: number
  code: string
}

export interface BanListOptions {
  now?: () => number
  /** Most bans held at once. */
  maxBans?: number
  /** Called for each ban that ends: run out, or `evicted` early to make room. */
  onEnd?: (ban: Ban, evicted: boolean) => void
  /** Injected with `now` in tests. */
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (timer: unknown) => void
}

export const DEFAULT_MAX_BANS = 4096
const MAX_DELAY = 2 ** 31 - 1

export class BanList {
  private readonly bans = new Map<string, Ban>()
  private readonly now: () => number
  private readonly maxBans: number
  private readonly onEnd: (ban: Ban, evicted: boolean) => void
  private readonly setTimer: (fn: () => void, ms: number) => unknown
  private readonly clearTimer: (timer: unknown) => void
  private timer: unknown = null
  /** When the armed timer fires; Infinity when none is armed. */
  private timerAt = Infinity

  constructor(opts: BanListOptions = {}) {
    this.now = opts.now ?? Date.now
    this.maxBans = opts.maxBans ?? DEFAULT_MAX_BANS
    this.onEnd = opts.onEnd ?? (() => {})
    this.setTimer =
      opts.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms)
        t.unref() // a pending ban never keeps the process alive
        return t
      })
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout))
  }

  get size(): number {
    return this.bans.size
  }

  /** Whether a timer is armed (at most one ever is). */
  get armed(): boolean {
    return this.timer !== null
  }

  add(key: Uint8Array, ms: number, code: string): Ban {
    const ban = { key: hex(key), until: this.now() + ms, code }
    this.bans.delete(ban.key) // a renewed ban replaces the old one
    if (this.bans.size >= this.maxBans) this.evictSoonest()
    this.bans.set(ban.key, ban)
    if (ban.until < this.timerAt) this.arm(ban.until)
    return ban
  }

  has(key: Uint8Array): boolean {
    const ban = this.bans.get(hex(key))
    return ban !== undefined && ban.until > this.now()
  }

  delete(key: Uint8Array): void {
    this.bans.delete(hex(key))
  }

  active(): Ban[] {
    const now = this.now()
    return [...this.bans.values()].filter((b) => b.until > now)
  }

  /** Ends every ban that has run out and re-arms the timer for the next one. */
  sweep(): void {
    const now = this.now()
    let next = Infinity
    for (const [k, ban] of this.bans) {
      if (ban.until <= now) {
        this.bans.delete(k)
        this.onEnd(ban, false)
      } else if (ban.until < next) next = ban.until
    }
    this.disarm()
    if (next < Infinity) this.arm(next)
  }

  /** Stops the timer and forgets every ban (the node is going away). */
  clear(): void {
    this.disarm()
    this.bans.clear()
  }

  private evictSoonest(): void {
    let soonest: Ban | null = null
    for (const ban of this.bans.values()) if (!soonest || ban.until < soonest.until) soonest = ban
    if (!soonest) return
    this.bans.delete(soonest.key)
    this.onEnd(soonest, true)
  }

  private arm(at: number): void {
    this.disarm()
    this.timerAt = at
    this.timer = this.setTimer(
      () => {
        this.timer = null
        this.timerAt = Infinity
        this.sweep()
      },
      // setTimeout fires at once past 2^31 − 1 ms; firing early only means one more sweep.
      Math.min(MAX_DELAY, Math.max(0, at - this.now())),
    )
  }

  private disarm(): void {
    if (this.timer !== null) this.clearTimer(this.timer)
    this.timer = null
    this.timerAt = Infinity
  }
}

function hex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')
}
