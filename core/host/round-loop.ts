/**
 * The round loop of a project host (docs/host.md, "Round state machine"): opens round r in the
 * ledger (or resumes it: same ledger deadline, journaled extension and offers), waits for the
 * deadline or maxUpdates, extends the deadline when too few updates came, and closes the round:
 * in-flight downloads finish, verdicts are settled (update-downloads.ts), computeRound (round.ts)
 * scores and aggregates, ledger.closeRound writes receipt + next checkpoint + momentum in one
 * batch (the next checkpoint θ_r + D(U_r) with outer updates: outer-update.ts), final acks go out and the journal is pruned. Then round r+1.
 */
import { createHash } from 'node:crypto'
import type { Batch } from '../engine/batch.js'
import { applyChange, dueEnactments } from '../ledger/governance.js'
import { overlapMode, roundSamples, type Manifest } from '../ledger/manifest.js'
import type { LedgerState } from '../ledger/reader.js'
import { sendFinalAck } from './acks.js'
import type { Announcer } from './announcer.js'
import type { HostContext, OpenRound } from './host-context.js'
import { usableCount } from './host-context.js'
import { maxUpdateBytes, type OfferIntake } from './offer-intake.js'
import { publishedCheckpoint } from './outer-update.js'
import { roundBases } from './rebase.js'
import { computeRound, roundHistory, type RoundCandidate, type RoundOutput } from './round.js'
import type { UpdateDownloads } from './update-downloads.js'

/** Deterministic: anyone can recompute it from the checkpoint it opens on. */
export function assignmentSeed(project: string, round: number, checkpointHash: string): string {
  return createHash('sha256')
    .update(`tandem/assignment-seed/v1\0${project}\0${round}\0${checkpointHash}`)
    .digest('hex')
}

/** `m` with the changes of the proposals `due` applied (the round about to open enacts them). */
function applyAll(m: Manifest, state: LedgerState, due: number[]): Manifest {
  for (const i of due) {
    const p = state.governance?.proposals.find((x) => x.index === i)
    if (p) m = applyChange(m, p.value.change)
  }
  return m
}

/** Attempts at computing and writing a round before the loop gives up (with a warning each). */
const CLOSE_ATTEMPTS = 5

export interface RoundLoopParts {
  announcer: Announcer
  intake: OfferIntake
  downloads: UpdateDownloads
  /** The batch a round under this manifest is scored on (validation.ts; host-datasets.ts). */
  validation: (manifest: Manifest) => Promise<Batch>
  /** Stop after closing this many rounds (undefined: until stop()). */
  rounds: number | undefined
}

export class RoundLoop {
  closedRounds = 0

  constructor(
    private readonly ctx: HostContext,
    private readonly parts: RoundLoopParts,
  ) {}

  /** Runs rounds until stop() or the `rounds` limit. */
  async run(): Promise<void> {
    const { ctx } = this
    try {
      while (!ctx.stopping) {
        await this.runRound()
        if (this.parts.rounds !== undefined && this.closedRounds >= this.parts.rounds) {
          ctx.emit('done')
          break
        }
      }
    } finally {
      ctx.state = 'stopped'
      this.parts.announcer.stop()
    }
  }

  /** Opens (or resumes) the ledger's current round and runs it until its receipt is written. */
  private async runRound(): Promise<void> {
    const { ctx } = this
    const o = await this.openRound()
    try {
      if (!(await this.collect(o))) return
      o.closeStarted = true
      ctx.state = 'closing'
      await this.close(o)
    } finally {
      if (o.timer) clearTimeout(o.timer)
      for (const core of o.cores)
        await core.close().catch((err: unknown) => ctx.emit('warning', err))
      if (ctx.open === o) ctx.open = null
    }
  }

  private async openRound(): Promise<OpenRound> {
    const { ctx } = this
    const r = ctx.ledger.round
    let rec = ctx.ledger.state.rounds[r]!
    const resumed = Boolean(rec.open)
    if (!rec.open) {
      const openedAt = ctx.now()
      // Amendments due at this boundary are enacted in the round-open's batch (ledger.ts); the
      // deadline follows the recipe then in effect.
      const due = dueEnactments(ctx.ledger.state, r)
      const { recipe } = applyAll(ctx.ledger.effectiveManifest(r), ctx.ledger.state, due)
      await ctx.ledger.openRound({
        openedAt,
        deadline: openedAt + recipe.roundDeadlineSec * 1000,
        enact: due,
        assignmentSeed: assignmentSeed(ctx.ledger.key, r, rec.checkpoint.contentHash),
      })
      rec = ctx.ledger.state.rounds[r]!
    }
    const opened = rec.open!
    // A model amendment in effect from this round changes the largest valid update.
    ctx.limits.maxBytes = maxUpdateBytes(ctx.ledger.effectiveManifest(r))
    await ctx.journal?.prune(r)
    const journal = (await ctx.journal?.read(r)) ?? { offers: [], deadline: null }
    const ledgerDeadline = opened.deadline
    const o: OpenRound = {
      round: r,
      openedAt: opened.openedAt,
      checkpointIndex: rec.checkpoint.index,
      checkpointHash: rec.checkpoint.contentHash,
      ledgerDeadline,
      deadline: Math.max(ledgerDeadline, journal.deadline ?? 0),
      extensions: journal.deadline && journal.deadline > ledgerDeadline ? 1 : 0,
      startedAt: ctx.now(),
      resumed,
      entries: [],
      byKey: new Map(),
      closeStarted: false,
      snapshotted: false,
      timer: null,
      wake: () => {},
      cores: [],
      history: roundHistory(ctx.ledger.state, r),
    }
    ctx.open = o
    for (const j of journal.offers) this.parts.intake.addEntry(o, j)
    ctx.state = 'open'
    ctx.emit('round-open', { round: r, deadline: o.deadline, resumed, extended: o.extensions > 0 })
    this.parts.announcer.broadcastRoundOpen(o)
    this.parts.announcer.announce()
    return o
  }

  /**
   * Waits for the deadline (extending it per the policy) or for maxUpdates. false: stopped
   * meanwhile (the round stays open in the ledger and resumes at the next start).
   */
  private async collect(o: OpenRound): Promise<boolean> {
    const { ctx } = this
    for (;;) {
      if (ctx.stopping) return false
      if (o.closeStarted) return true
      const wait = o.deadline - ctx.now()
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          o.wake = resolve
          o.timer = setTimeout(resolve, wait)
        })
        if (o.timer) clearTimeout(o.timer)
        continue
      }
      const usable = usableCount(o)
      const { minUpdates } = ctx.ledger.effectiveManifest(o.round).recipe
      if (usable === 0 || (usable < minUpdates && o.extensions === 0)) await this.extend(o)
      else return true
    }
  }

  /** Extends the deadline by roundDeadlineSec: journaled, and roundOpen re-sent with it. */
  private async extend(o: OpenRound): Promise<void> {
    const { ctx } = this
    o.deadline = ctx.now() + ctx.ledger.effectiveManifest(o.round).recipe.roundDeadlineSec * 1000
    o.extensions++
    // Offers that came in while the timer was firing are on time after all.
    for (const e of o.entries) {
      if (e.verdict !== 'late') continue
      e.verdict = this.parts.intake.knownVerdict(o, e, o.entries.indexOf(e))
      if (e.verdict === null) e.fetching = this.parts.downloads.fetch(o, e)
    }
    await ctx.journal?.append({ t: 'extend', round: o.round, deadline: o.deadline })
    ctx.emit('round-open', {
      round: o.round,
      deadline: o.deadline,
      resumed: o.resumed,
      extended: true,
    })
    this.parts.announcer.broadcastRoundOpen(o)
    this.parts.announcer.announce()
  }

  /**
   * Waits for the fetches, settles the verdicts, computes the round and writes it. Retries a failed
   * write. Stopped meanwhile (downloads cut short), it writes nothing: the round resumes at the
   * next start from the ledger and the journal.
   */
  private async close(o: OpenRound): Promise<void> {
    const { ctx } = this
    await Promise.all(o.entries.map((e) => e.fetching))
    o.snapshotted = true
    const kept = await this.parts.downloads.settle(o)
    if (ctx.stopping) return
    // The manifest in effect in this round: the base one plus the amendments enacted by its open.
    const manifest = ctx.ledger.effectiveManifest(o.round)
    const candidates: RoundCandidate[] = kept.map(({ entry: e }) => ({
      contributor: e.contributor,
      updateCore: e.core,
      updateIndex: e.start,
      updateHash: e.hash,
      samples: roundSamples(manifest),
      encoded: e.encoded,
      receivedAt: e.receivedAt,
      signatureValid: e.signatureValid,
      ...(e.startedFrom !== undefined ? { startedFrom: e.startedFrom } : {}),
    }))
    for (let attempt = 1; ; attempt++) {
      try {
        const weights = await ctx.ledger.weights(o.round)
        // Overlap: checkpoints r and r − 1, to re-base updates started from r − 1 (rebase.ts).
        const bases =
          overlapMode(manifest) === 'none'
            ? undefined
            : await roundBases(ctx.ledger.state, o.round, (r) => ctx.ledger.weights(r))
        const out = await computeRound({
          ...(bases ? { bases } : {}),
          manifest,
          round: o.round,
          weights,
          momentum: await ctx.ledger.momentum(o.round),
          candidates,
          seenBefore: o.history.seenBefore,
          reputation: o.history.reputation,
          validation: await this.parts.validation(manifest),
          deadline: o.deadline,
          // Never before an arrival it lists, even if the wall clock stepped back meanwhile.
          closedAt: Math.max(ctx.now(), ...candidates.map((c) => c.receivedAt)),
        })
        // With outer updates the next checkpoint is θ_r + D(U_r), not the outer step's θ′.
        const residual = manifest.recipe.outerUpdates
          ? await ctx.ledger.outerResidual(o.round)
          : null
        const next = publishedCheckpoint(manifest, weights, out.weights, residual)
        await ctx.ledger.closeRound(out.receipt, next.weights, out.momentum, next.outerUpdate)
        this.closedRounds++
        this.closed(o, out)
        await ctx.journal?.prune(o.round + 1).catch((err: unknown) => ctx.emit('warning', err))
        return
      } catch (err) {
        // The ledger refuses a second receipt: if one is there, this round is done.
        if (ctx.ledger.state.rounds[o.round]?.receipt) return
        ctx.emit('warning', err)
        if (ctx.stopping || attempt >= CLOSE_ATTEMPTS) throw err
        await new Promise((r) => setTimeout(r, 1000 * attempt))
      }
    }
  }

  /** The receipt is written: tell the UI, and each contributor its verdict. */
  private closed(o: OpenRound, out: RoundOutput): void {
    const contributions = out.receipt.contributions
    const credits: Record<string, number> = {}
    for (const c of contributions)
      credits[c.contributor] = (credits[c.contributor] ?? 0) + c.credits
    this.ctx.emit('round-closed', {
      round: o.round,
      lossBefore: out.lossBefore,
      lossAfter: out.lossAfter,
      accepted: contributions.filter((c) => c.accepted).length,
      rejected: contributions.filter((c) => !c.accepted).length,
      credits,
      contributions,
      ms: this.ctx.now() - o.startedAt,
    })
    for (const c of contributions) sendFinalAck(this.ctx, o.round, c)
  }
}
