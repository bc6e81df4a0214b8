/**
 * The follow loop: each time the ledger grows, the host announces a round or the node's gate may
 * answer differently, read the ledger again and decide. Receipts are collected, a round that closed
 * while we train is abandoned, an offer not yet settled is re-sent, and the open round is trained
 * when its deadline has not passed and the gate says it is our turn. Reads run one at a time (a
 * kick during one makes it run once more after), and so does training. docs/node.md, "Participant".
 */
import { isTandemError } from '../../api/errors.js'
import { readCheckpoint } from '../../ledger/reader.js'
import type { TrainingEngine } from '../../engine/engine.js'
import type { LedgerState } from '../../ledger/reader.js'
import type { Outbox } from './outbox.js'
import { CheckpointPrefetch, earlyRound, heldFate, type HeldUpdate } from './overlap.js'
import type { ReceiptInbox } from './receipts.js'
import type { RoundDeadlines } from './round-deadlines.js'
import { readFollowed, type Running } from './running.js'
import { trainRound, type RoundContext, type Training } from './train-round.js'
import type { ParticipantEvents, SetState } from './types.js'

export interface FollowOptions {
  engine: TrainingEngine
  ledgerTimeoutMs: number
  now: () => number
  gate: ((round: number) => boolean | Promise<boolean>) | undefined
  /** Why this contributor may not train round r under the terms then in effect (null: it may). */
  consent: (state: LedgerState, round: number) => string | null
  deadlines: RoundDeadlines
  outbox: Outbox
  inbox: ReceiptInbox
  round: RoundContext
  /** stop() was called. */
  stopped: () => boolean
  setState: SetState
  onTrained: (t: ParticipantEvents['trained'][0]) => void
  onWarning: (err: unknown) => void
}

export class FollowLoop {
  /** The ledger as last read (null until it arrived). */
  ledger: LedgerState | null = null
  private running: Running | null = null
  private current: Training | null = null
  private evaluating = false
  private again = false
  /** An update trained early (overlap.ts), published, waiting for its round to open. */
  private held: HeldUpdate | null = null
  /** Rounds whose early training failed: they wait for their own checkpoint (the normal path). */
  private readonly noEarly = new Set<number>()
  private prefetch: CheckpointPrefetch | null = null

  constructor(private readonly opts: FollowOptions) {}

  /** The round in training, if any. */
  get training(): Training | null {
    return this.current
  }

  /** Starts following with what start() opened. */
  begin(running: Running): void {
    this.running = running
    this.prefetch = new CheckpointPrefetch(
      (state, round) =>
        readCheckpoint(running.ledgerCore, state, round, {
          wait: true,
          timeout: this.opts.ledgerTimeoutMs,
          // Outer-update projects: from the held checkpoint plus the updates since (less to read).
          ...(running.checkpoint ? { from: running.checkpoint } : {}),
        }),
      (err) => {
        if (!this.opts.stopped()) this.opts.onWarning(err)
      },
    )
    this.kick()
  }

  /** Looks at the ledger again (serially). */
  kick(): void {
    const running = this.running
    if (this.opts.stopped() || !running) return
    if (this.evaluating) {
      this.again = true
      return
    }
    this.evaluating = true
    void (async () => {
      try {
        do {
          this.again = false
          await this.evaluate(running)
        } while (this.again && !this.opts.stopped())
      } catch (err) {
        this.opts.onWarning(err)
      } finally {
        this.evaluating = false
      }
    })()
  }

  /** For stop(): the round in training (if any) stops at the engine's next step. */
  stopTraining(): void {
    if (this.current) this.opts.engine.stop()
  }

  /** For stop(): resolves once no read or round is under way. */
  async settled(): Promise<void> {
    while (this.current || this.evaluating) await new Promise((r) => setTimeout(r, 20))
  }

  private async evaluate(running: Running): Promise<void> {
    const { outbox, deadlines, setState } = this.opts
    try {
      this.ledger = await readFollowed(running.ledgerCore, this.opts.ledgerTimeoutMs)
    } catch (err) {
      if (!isTandemError(err) || err.code !== 'LEDGER_UNAVAILABLE') throw err
      // No peer holds the new blocks right now (the host went away): look again in a while.
      setState('waiting-ledger', err.message)
      setTimeout(() => this.kick(), 2000).unref()
      return
    }
    const state = this.ledger
    this.opts.inbox.collect(state)
    this.prefetch?.look(state)
    const busy = this.current
    if (busy && state.rounds[busy.round]?.receipt && !busy.abandoned) {
      busy.abandoned = true
      this.opts.engine.stop()
    }
    if (busy) return
    await this.release(state)
    const cur = state.rounds.at(-1)!
    const r = cur.round
    if (!cur.open || cur.receipt) {
      if (!outbox.pending() && !this.held) setState('idle', `waiting for round ${r} to open`)
      return
    }
    if (outbox.has(r)) {
      outbox.resend()
      // Overlap: train round r + 1 from checkpoint r while round r is aggregated (overlap.ts).
      const early = earlyRound(state, true, this.held !== null)
      if (
        early !== null &&
        !deadlines.isSkipped(early) &&
        !this.noEarly.has(early) &&
        (await this.mayTrain(state, r, early))
      )
        this.start(running, state, early, true)
      return
    }
    if (deadlines.isSkipped(r)) return
    if (this.opts.now() >= deadlines.deadline(r, cur.open.deadline)) {
      deadlines.skip(r, 'deadline')
      setState('idle', `round ${r} is past its deadline; waiting for the next`)
      return
    }
    if (!(await this.mayTrain(state, r, r))) return
    this.start(running, state, r, false)
  }

  /**
   * The terms (as in effect in `open`, the ledger's open round) and the node's gate (pause, duty
   * cycle, another project's turn) for training `round`; says why not in the state.
   */
  private async mayTrain(state: LedgerState, open: number, round: number): Promise<boolean> {
    const { setState } = this.opts
    const withheld = this.opts.consent(state, open)
    if (withheld) {
      setState('idle', withheld)
      return false
    }
    if (this.opts.gate && !(await this.opts.gate(round))) {
      setState('idle', `round ${round} is open; waiting for this node's turn`)
      return false
    }
    return !this.opts.stopped()
  }

  /** Trains `round` (early: from checkpoint round − 1, before it opens) in the background. */
  private start(running: Running, state: LedgerState, round: number, early: boolean): void {
    const training: Training = {
      round,
      step: 0,
      steps: state.manifest.recipe.innerSteps,
      abandoned: false,
      ...(early ? { early } : {}),
    }
    this.current = training
    const started = this.opts.now()
    void this.runRound(running, training, state).finally(() => {
      this.current = null
      // Always, whatever ended the round's work: the node's scheduler frees the engine on it.
      this.opts.onTrained({
        round,
        seconds: Math.max(0, this.opts.now() - started) / 1000,
        samples: training.step * state.manifest.recipe.batchSize,
      })
      this.kick()
    })
  }

  /** An early update (overlap.ts): offered once its round opened in time, dropped if it cannot be. */
  private async release(state: LedgerState): Promise<void> {
    const held = this.held
    if (!held) return
    const fate = heldFate(state, held)
    if (fate.kind === 'wait') return
    this.held = null
    const { deadlines, setState } = this.opts
    if (fate.kind === 'offer' && this.opts.now() <= deadlines.deadline(held.round, fate.deadline)) {
      this.opts.outbox.add(held.round, held.hash, held.offer)
      await held.saveResidual()
      return
    }
    held.restoreResidual()
    if (fate.kind === 'offer') deadlines.skip(held.round, 'late')
    setState(
      'idle',
      fate.kind === 'drop'
        ? `round ${held.round}: ${fate.why}; early update not offered`
        : `round ${held.round}: opened after its deadline; early update not offered`,
    )
  }

  /** Trains one round and offers its update; what went wrong decides whether to try again. */
  private async runRound(running: Running, training: Training, state: LedgerState): Promise<void> {
    const { round } = training
    const { deadlines, setState } = this.opts
    try {
      const result = await trainRound(this.opts.round, running, training, state)
      if (result.kind === 'late') {
        deadlines.skip(round, 'late')
        setState('idle', `round ${round}: finished after the deadline, not offered`)
      } else if (result.kind === 'published' && training.early) {
        // Offered once its round opens (release, on the next look at the ledger).
        this.held = { round, ...result }
        setState('waiting-receipt', `round ${round}: trained early; waiting for it to open`)
      } else if (result.kind === 'published') {
        this.opts.outbox.add(round, result.hash, result.offer)
        await result.saveResidual()
      }
    } catch (err) {
      if (this.opts.stopped()) return // stop() closed the cores under the job
      if (isTandemError(err) && err.code === 'ENGINE_STOPPED') {
        setState('idle', `round ${round} closed while training`)
        return
      }
      this.opts.onWarning(err)
      if (training.early) {
        // Not given up: trained the normal way once it opens, from its own checkpoint.
        this.noEarly.add(round)
        setState('idle', `round ${round}: early training failed (${(err as Error).message})`)
        return
      }
      // Transient (a checkpoint or shard that did not arrive): try again while the round lasts.
      if (isTandemError(err) && /UNAVAILABLE/.test(err.code)) {
        setState('idle', `round ${round}: ${err.message}; retrying`)
        setTimeout(() => this.kick(), 2000).unref()
      } else {
        deadlines.skip(round, 'failed')
        setState('idle', `round ${round} failed: ${(err as Error).message}`)
      }
    }
  }
}
