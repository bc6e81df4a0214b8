/**
 * Whether this machine computes right now, applied to the engine: the run policy (policy.ts: the
 * person's pause, battery, schedule windows, idle-only) decided again whenever an input changes,
 * and "pause after this round". Stopping mid-round pauses the engine at its next step (well under a
 * second); resuming continues the same round. A schedule arms one timer for its next change
 * (`nextChange`) instead of polling; the idle time and power source are reported by the shell.
 */
import type { Logger } from 'pino'
import type { Settings } from '../api/contract.js'
import type { ShellEnvironment } from '../api/shell.js'
import type { TrainingEngine } from '../engine/engine.js'
import { nextChange, runDecision, type PolicyEnv, type RunDecision } from './policy.js'

export interface RunControlOptions {
  settings: () => Settings
  /** The person's pause, kept in node-state.json. */
  userPaused: { get(): boolean; set(paused: boolean): void }
  engine: Pick<TrainingEngine, 'pause' | 'resume' | 'paused'>
  /** Whether a round holds the engine now. */
  training: () => boolean
  /** Computing became allowed again: the rounds that were told to wait may ask again. */
  onAllowed: () => void
  /** The decision or a pending pause changed (the node pushes its status). */
  onChange: () => void
  logger: Pick<Logger, 'info'>
  /** Wall clock, Unix ms (schedule windows). */
  now: () => number
  /** No desktop session (the daemon): idle-only does not apply. */
  headless: boolean
}

export class RunControl {
  private current: RunDecision = { run: true, activity: 'training', reason: '' }
  private afterRound = false
  private readonly env: PolicyEnv
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor(private readonly opts: RunControlOptions) {
    this.env = { headless: opts.headless }
  }

  get decision(): RunDecision {
    return this.current
  }

  /** "Pause after this round" is pending. */
  get pauseAfterRound(): boolean {
    return this.afterRound
  }

  /** Whether a round may start now. */
  get mayStart(): boolean {
    return this.current.run && !this.afterRound
  }

  /**
   * The shell reports the user's idle time, power source, and why it holds training (a string) or
   * that it no longer does (null); an absent field keeps its last value.
   */
  setEnvironment(env: ShellEnvironment): void {
    if (env.idleSec !== undefined) this.env.idleSec = env.idleSec
    if (env.onBattery !== undefined) this.env.onBattery = env.onBattery
    if (env.screenLocked !== undefined) this.env.screenLocked = env.screenLocked
    if (env.hold === null) delete this.env.hold
    else if (env.hold !== undefined) this.env.hold = env.hold
    this.evaluate()
  }

  /** Re-decides whether to compute now; pauses or resumes the engine and re-arms the timer. */
  evaluate(): void {
    if (this.closed) return
    const settings = this.opts.settings()
    const now = new Date(this.opts.now())
    const before = this.current
    this.current = runDecision({
      settings,
      now,
      env: this.env,
      userPaused: this.opts.userPaused.get(),
    })
    const engine = this.opts.engine
    if (this.current.run) {
      if (engine.paused) engine.resume()
      if (!before.run) this.opts.onAllowed()
    } else if (this.opts.training() && !engine.paused) {
      engine.pause()
    }
    if (before.run !== this.current.run || before.reason !== this.current.reason) {
      this.opts.logger.info(
        this.current.run ? 'computing allowed' : `not computing: ${this.current.reason}`,
      )
    }
    if (this.timer) clearTimeout(this.timer)
    const next = nextChange(settings, now)
    // Idle time is reported by the shell as it changes; the schedule is the only clock-driven input.
    const wait = next ? Math.min(next.getTime() - now.getTime() + 50, 2 ** 31 - 1) : null
    this.timer = wait !== null && wait > 0 ? setTimeout(() => this.evaluate(), wait) : null
    this.timer?.unref()
    this.opts.onChange()
  }

  pause(mode: 'now' | 'after-round' = 'now'): void {
    if (mode === 'after-round' && this.opts.training()) {
      this.afterRound = true
      this.opts.logger.info('pausing after this round')
      this.opts.onChange()
      return
    }
    this.afterRound = false
    this.opts.userPaused.set(true)
    this.evaluate()
  }

  resume(): void {
    this.afterRound = false
    this.opts.userPaused.set(false)
    this.evaluate()
  }

  /** A round ended: a pending "pause after this round" takes effect. */
  roundEnded(): void {
    if (!this.afterRound) return
    this.afterRound = false
    this.opts.userPaused.set(true)
    this.evaluate()
  }

  /**
   * A job is about to start on the engine's workers. engine.train() marks the engine running when
   * it starts, so a pause decided while the round was still fetching its checkpoint (training was
   * granted, no job yet) would be lost: apply it again before the first step.
   */
  jobStarting(): void {
    if (!this.current.run && this.opts.training()) this.opts.engine.pause()
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
  }
}
