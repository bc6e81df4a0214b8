/**
 * One joined project on this node: its Participant, and what the node records and shows of it —
 * the round's progress (round-progress.ts), training loss points, receipts with their validation
 * loss, the credits they change, and log lines. Membership (join, leave) and the participant's
 * creation are project-membership.ts; the engine turns stay with the node (node.ts).
 */
import type { ApiEvent, CreditsSummary, RoundProgress } from '../api/contract.js'
import { receiptView } from './credits-summary.js'
import type { NodeLog } from './log.js'
import type { JoinedProject, NodeStateStore } from './node-state.js'
import type {
  Participant,
  ParticipantState,
  Progress,
  ReceiptRecord,
} from './participant/participant.js'
import { afterState, granted, trainingStep, trainLoss } from './round-progress.js'

export interface ProjectSlotContext {
  state: NodeStateStore
  log: NodeLog
  /** Wall clock, Unix ms. */
  now: () => number
  push(e: ApiEvent): void
  pushStatus(): void
  credits(): CreditsSummary
  /** A round's work ended (trained, failed or abandoned) after `seconds` of compute. */
  trained(key: string, round: number, seconds: number): void
}

export class ProjectSlot {
  readonly key: string
  /** The round this node works on, as the UI sees it; null before the first grant. */
  progress: RoundProgress | null = null
  private readonly logger

  constructor(
    public info: JoinedProject,
    readonly participant: Participant,
    private readonly ctx: ProjectSlotContext,
  ) {
    this.key = info.key
    this.logger = ctx.log.child('project')
    const short = this.key.slice(0, 8)
    participant.on('state', (state, detail) => this.onState(state, detail))
    participant.on('progress', (p) => this.onProgress(p))
    participant.on('trained', (t) => ctx.trained(this.key, t.round, t.seconds))
    participant.on('receipt', (r) => this.onReceipt(r))
    participant.on('offer', (o) =>
      this.logger.info(
        `${short}: round ${o.round} update ${o.status}${o.reason ? ` (${o.reason})` : ''}`,
      ),
    )
    participant.on('warning', (err) =>
      this.logger.warn(`${short}: ${err instanceof Error ? err.message : String(err)}`),
    )
  }

  start(): void {
    this.participant
      .start()
      .catch((err: unknown) => this.logger.error(`${this.key.slice(0, 8)}: ${String(err)}`))
  }

  /** The project's display name (the manifest's once read). */
  get name(): string | undefined {
    return this.participant.manifest?.name
  }

  /** The engine was granted for `round`: its checkpoint and data are being fetched. */
  granted(round: number): void {
    this.setProgress(granted(this.key, round))
  }

  private setProgress(progress: RoundProgress): void {
    this.progress = progress
    this.ctx.push({ event: 'progress', data: progress })
  }

  private onState(state: ParticipantState, detail: string): void {
    this.logger.debug(`${this.key.slice(0, 8)}: ${state} ${detail}`)
    const progress = this.progress && afterState(this.progress, state)
    if (progress) this.setProgress(progress)
    this.ctx.pushStatus()
  }

  private onProgress(p: Progress): void {
    this.setProgress(trainingStep(this.key, p))
    const point = trainLoss(this.key, p, this.ctx.now())
    if (point) {
      this.ctx.state.addLossPoint(point)
      this.ctx.push({ event: 'loss', data: point })
    }
  }

  private onReceipt(r: ReceiptRecord): void {
    const view = receiptView(this.key, this.name ?? this.key.slice(0, 8), r)
    const added = this.ctx.state.addReceipt(view)
    if (!added) return
    this.ctx.log
      .child('credits')
      .info(
        `${view.projectName}: round ${r.round} ${r.accepted ? `accepted, ${r.credits} credits` : `rejected (${r.reason})`}`,
      )
    this.ctx.push({ event: 'receipt', data: view })
    if (added.loss) this.ctx.push({ event: 'loss', data: added.loss })
    this.ctx.push({ event: 'credits', data: this.ctx.credits() })
  }
}
