/**
 * One run of an expensive job at a time. A request while a run is in flight does not start another
 * and does not get the in-flight result (which may predate what prompted the request): it waits for
 * the single next run, which starts when the current one ends and serves every request that came
 * meanwhile. So a burst of N requests costs at most two runs, not N.
 */
export class CoalescedRun<T> {
  private current: Promise<T> | null = null
  private next: Promise<T> | null = null
  /** Runs started (tests and counters). */
  runs = 0

  constructor(private readonly job: () => Promise<T>) {}

  request(): Promise<T> {
    if (!this.current) return this.start()
    if (!this.next) {
      const after = this.current.then(
        () => undefined,
        () => undefined, // the failed run's own requesters get its error; this one runs afresh
      )
      this.next = after.then(() => {
        this.next = null
        return this.start()
      })
    }
    return this.next
  }

  private start(): Promise<T> {
    this.runs++
    const run = Promise.resolve()
      .then(() => this.job())
      .finally(() => {
        if (this.current === run) this.current = null
      })
    this.current = run
    return run
  }
}
