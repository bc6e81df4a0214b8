/**
 * Keeps looking up one topic, with backoff. Hyperswarm announces and looks up once on join and then
 * only every ~10 minutes, so peers that join at the same moment can each look up before the others
 * have announced and never meet. This re-runs the lookup at growing intervals (fast while the topic
 * has no peers, slower once it has some) and starts over fast when the network comes back or the
 * last peer leaves. A failed lookup (offline) is just another reason to try again later.
 */
import type Hyperswarm from 'hyperswarm'

export interface RefreshSchedule {
  /** First retry delay; doubles after each lookup. */
  minMs: number
  /** Longest delay while the topic has no peers (offline, or alone). */
  emptyMaxMs: number
  /** Longest delay once the topic has peers. */
  maxMs: number
}

export const DEFAULT_REFRESH: RefreshSchedule = { minMs: 250, emptyMaxMs: 10_000, maxMs: 120_000 }

export class TopicRefresher {
  private delay: number
  private timer: NodeJS.Timeout | null = null
  private running = false
  private stopped = false
  lookups = 0
  failures = 0

  constructor(
    private readonly discovery: Hyperswarm.Discovery,
    private readonly schedule: RefreshSchedule,
    /** How many peers the topic has right now. */
    private readonly peerCount: () => number,
    /** Told after every lookup, e.g. to re-evaluate online/offline. */
    private readonly onLookup: (ok: boolean) => void,
  ) {
    this.delay = schedule.minMs
    this.arm()
  }

  /** Look again soon: the network came back, the last peer left, or we woke from sleep. */
  reset(): void {
    if (this.stopped) return
    this.delay = this.schedule.minMs
    if (!this.running) this.arm()
  }

  pause(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  stop(): void {
    this.stopped = true
    this.pause()
  }

  private arm(): void {
    if (this.stopped) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.run(), this.delay)
    this.timer.unref() // a pending lookup must never keep the process alive on its own
  }

  private async run(): Promise<void> {
    this.timer = null
    this.running = true
    let ok = true
    try {
      await this.discovery.refresh()
    } catch {
      ok = false
    }
    this.running = false
    if (this.stopped) return
    this.lookups++
    if (!ok) this.failures++
    this.onLookup(ok)
    const cap = this.peerCount() === 0 ? this.schedule.emptyMaxMs : this.schedule.maxMs
    this.delay = Math.min(this.delay * 2, cap)
    this.arm()
  }
}
