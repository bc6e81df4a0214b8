/**
 * Whose turn it is on the node's one TrainingEngine. Every joined project's participant asks
 * gate() before training a round; one round trains at a time, and the scheduler (scheduler.ts)
 * picks among the projects that want to train, by resource share. Projects switch only at round
 * boundaries: a round, once granted, runs until its participant reports it trained.
 *
 * "Want to train" is not only "has an open round right now". A project whose rounds follow one
 * another (the host opens the next as soon as it closes one) never has a round open at the instant
 * its own round ends, so a work-conserving pick would hand the engine to the other project at every
 * boundary: strict alternation, whatever the shares. So a project that just finished a round still
 * counts as ready for `handoffGraceMs`, and if it is its turn the others wait that long for its
 * next round. Likewise a waiting project the scheduler chose keeps its claim only that long: if its
 * round closed meanwhile (its host vanished; it will not come), the others go.
 *
 * The clock (monotonic ms) and the one timer (which asks the waiting projects again when a claim
 * lapses) are injected, so the rules are tested without a network or training
 * (test/unit/node/engine-turns.test.ts). Nothing here persists: the scheduler's usage state is read
 * and written through `scheduler`, which the node keeps in node-state.json.
 */
import { pick, record, type SchedulerState } from './scheduler.js'

export interface TurnTimers {
  /** Calls `fn` once after `ms`; returns what cancels it. Must not keep the process alive. */
  set(fn: () => void, ms: number): () => void
}

/** setTimeout, unref'd: a pending hand-off never keeps the process alive. */
export const realTimers: TurnTimers = {
  set(fn, ms) {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
}

export interface EngineTurnsOptions {
  /** The scheduler's usage state, kept by the caller (the node persists it). */
  scheduler: { get(): SchedulerState; set(state: SchedulerState): void }
  /** Whether any round may start now (the run policy allows computing, no pause pending). */
  mayStart: () => boolean
  /** A project was granted the engine for `round`; called before its gate answers yes. */
  onGrant?: (key: string, round: number) => void
  /** How long a just-finished or chosen-but-absent project keeps its claim (default 10 s). */
  handoffGraceMs?: number
  /** Monotonic ms (default performance.now). */
  clock?: () => number
  timers?: TurnTimers
}

export interface TurnProject {
  /** Resource share, ≥ 1. */
  share: number
  paused: boolean
}

/** Counters for the log and the tests. */
export interface TurnStats {
  /** Rounds granted. */
  granted: number
  /** Asks answered "not now". */
  refused: number
}

interface Turn extends TurnProject {
  /** Asks the participant to look at its ledger again (it may ask the gate again). */
  poke: () => void
  /** The round it asked for and was told to wait, until it is granted one. */
  waiting: number | null
  /** When (clock ms) it last finished a round. */
  trainedAt: number | null
  /** When (clock ms) the scheduler chose it while it waited, if it has not come since. */
  chosenAt: number | null
}

export const DEFAULT_HANDOFF_GRACE_MS = 10_000

export class EngineTurns {
  readonly stats: TurnStats = { granted: 0, refused: 0 }
  private readonly turns = new Map<string, Turn>()
  private current: string | null = null
  private cancelHandoff: (() => void) | null = null
  private closed = false
  private readonly graceMs: number
  private readonly clock: () => number
  private readonly timers: TurnTimers

  constructor(private readonly opts: EngineTurnsOptions) {
    this.graceMs = opts.handoffGraceMs ?? DEFAULT_HANDOFF_GRACE_MS
    this.clock = opts.clock ?? (() => performance.now())
    this.timers = opts.timers ?? realTimers
  }

  /** The project whose round holds the engine, or null. */
  get training(): string | null {
    return this.current
  }

  /** A joined project takes part from now on; `poke` asks its participant to look again. */
  add(key: string, project: TurnProject, poke: () => void): void {
    this.turns.set(key, { ...project, poke, waiting: null, trainedAt: null, chosenAt: null })
  }

  /** Share or pause changed. Unpausing asks the waiting projects again (it may be its turn). */
  update(key: string, change: Partial<TurnProject>): void {
    const turn = this.turns.get(key)
    if (!turn) return
    if (change.share !== undefined) turn.share = change.share
    if (change.paused !== undefined) turn.paused = change.paused
    if (change.paused === false) this.pokeWaiting()
  }

  /**
   * A project left. A round of it still training keeps the engine until its participant reports
   * it trained (stopping the participant ends that round), as the engine is busy until then.
   */
  remove(key: string): void {
    this.turns.delete(key)
  }

  /** Asked by `key`'s participant before training `round`: true = train it now. */
  gate(key: string, round: number): boolean {
    const turn = this.turns.get(key)
    if (!turn || this.closed) return false
    turn.waiting = round
    turn.chosenAt = null
    if (!this.opts.mayStart() || turn.paused) return this.refuse()
    if (this.current !== null && this.current !== key) return this.refuse()
    const at = this.clock()
    const projects = [...this.turns].map(([k, x]) => ({
      key: k,
      share: x.share,
      joined: true,
      paused: x.paused,
      ready: x === turn || this.ready(x, at),
    }))
    const choice = pick(projects, this.opts.scheduler.get())
    this.opts.scheduler.set(choice.state)
    if (choice.key !== key) {
      const chosen = choice.key !== null ? this.turns.get(choice.key) : undefined
      if (chosen) {
        if (chosen.waiting !== null) {
          chosen.chosenAt ??= at
          chosen.poke()
        }
        // When its claim lapses, the others ask again.
        const since = chosen.waiting !== null ? chosen.chosenAt! : (chosen.trainedAt ?? at)
        this.armHandoff(since + this.graceMs - at)
      }
      return this.refuse()
    }
    turn.waiting = null
    turn.trainedAt = null
    this.current = key
    this.stats.granted++
    this.opts.onGrant?.(key, round)
    return true
  }

  /**
   * `key`'s round ended (trained, failed or abandoned) after `seconds` of compute: the usage is
   * recorded for the scheduler, the engine is free, and the waiting projects ask again.
   */
  trained(key: string, seconds: number): void {
    this.opts.scheduler.set(record(this.opts.scheduler.get(), key, seconds))
    if (this.current === key) this.current = null
    const turn = this.turns.get(key)
    if (turn) turn.trainedAt = this.clock()
    this.pokeWaiting()
  }

  /** Asks every waiting project again (the answer may have changed: resumed, unpaused, freed). */
  pokeWaiting(): void {
    for (const turn of this.turns.values()) if (turn.waiting !== null) turn.poke()
  }

  /** No more grants; the pending hand-off is cancelled. */
  close(): void {
    this.closed = true
    this.cancelHandoff?.()
    this.cancelHandoff = null
  }

  private refuse(): false {
    this.stats.refused++
    return false
  }

  /** Whether the scheduler may pick `x` now (see the file comment). */
  private ready(x: Turn, at: number): boolean {
    if (x.waiting !== null) return x.chosenAt === null || at - x.chosenAt < this.graceMs
    return x.trainedAt !== null && at - x.trainedAt < this.graceMs
  }

  private armHandoff(ms: number): void {
    this.cancelHandoff?.()
    // 20 ms past the claim's end, so the asks that follow find it lapsed.
    this.cancelHandoff = this.timers.set(
      () => {
        this.cancelHandoff = null
        this.pokeWaiting()
      },
      Math.max(0, ms) + 20,
    )
  }
}
