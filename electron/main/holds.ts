/**
 * Why the desktop shell holds training right now. Several sources may hold at once (the computer
 * is going to sleep, the OS limits the CPU's speed, a listed program runs); the run policy gets
 * one reason: the most important hold that is on, in this order.
 */
export type HoldSource = 'sleep' | 'thermal' | 'speed-limit' | 'program'

const ORDER: readonly HoldSource[] = ['sleep', 'thermal', 'speed-limit', 'program']

export class Holds {
  private readonly on = new Map<HoldSource, string>()
  private last: string | null = null

  /** `report` gets the reason to show, or null when nothing holds; only when it changes. */
  constructor(private readonly report: (hold: string | null) => void) {}

  set(source: HoldSource, reason: string | null): void {
    if (reason === null) this.on.delete(source)
    else this.on.set(source, reason)
    const first = ORDER.find((s) => this.on.has(s))
    const now = first ? this.on.get(first)! : null
    if (now === this.last) return
    this.last = now
    this.report(now)
  }

  get current(): string | null {
    return this.last
  }
}
