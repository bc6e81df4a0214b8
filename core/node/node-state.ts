/**
 * What a contributor node remembers between runs besides its settings and its cores: the projects
 * it joined (share, paused), whether the user paused it, the scheduler's accounting, and the local
 * history the UI shows (its receipts and loss points). One JSON file, written atomically after every
 * change (coalesced), validated on read: a corrupt file is set aside (STATE_CORRUPT) and the node
 * starts from empty state rather than guessing. Receipts are also recoverable from the ledgers, so
 * losing this file loses no credit, only local history.
 */
import { join } from 'node:path'
import { z } from 'zod'
import { LossPoint, ReceiptView } from '../api/contract.js'
import { isTandemError, type TandemError } from '../api/errors.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'
import { emptySchedulerState, forget, SchedulerState } from './scheduler.js'

export const NODE_STATE_VERSION = 1
export const MAX_RECEIPTS = 5000
export const MAX_LOSS_POINTS = 4000
/** A failed write is tried again after this long even if nothing else changes. */
const RETRY_MS = 5000

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/)

export const JoinedProject = z
  .object({
    key: Hex32,
    share: z.number().int().min(1).max(10_000),
    paused: z.boolean(),
    joinedAt: z.number().int().min(0),
    /** Hash of the project terms this node accepted (docs/governance.md); absent: not read yet. */
    acceptedTerms: z.string().max(64).optional(),
  })
  .strict()
export type JoinedProject = z.infer<typeof JoinedProject>

export const NodeStateFile = z
  .object({
    version: z.literal(NODE_STATE_VERSION),
    projects: z.array(JoinedProject).max(256),
    userPaused: z.boolean(),
    scheduler: SchedulerState,
    receipts: z.array(ReceiptView).max(MAX_RECEIPTS),
    loss: z.array(LossPoint).max(MAX_LOSS_POINTS),
  })
  .strict()
export type NodeStateFile = z.infer<typeof NodeStateFile>

export function emptyNodeState(): NodeStateFile {
  return {
    version: NODE_STATE_VERSION,
    projects: [],
    userPaused: false,
    scheduler: emptySchedulerState(),
    receipts: [],
    loss: [],
  }
}

export class NodeStateStore {
  readonly path: string
  private value: NodeStateFile
  private writing: Promise<void> = Promise.resolve()
  private dirty = false
  private timer: NodeJS.Timeout | null = null

  private constructor(
    path: string,
    value: NodeStateFile,
    readonly recovered: TandemError | null,
  ) {
    this.path = path
    this.value = value
  }

  static async open(dir: string): Promise<NodeStateStore> {
    const path = join(dir, 'node-state.json')
    try {
      const value = await readJsonFile(path, NodeStateFile)
      return new NodeStateStore(path, value ?? emptyNodeState(), null)
    } catch (err) {
      if (!isTandemError(err) || err.code !== 'STATE_CORRUPT') throw err
      return new NodeStateStore(path, emptyNodeState(), err)
    }
  }

  get(): Readonly<NodeStateFile> {
    return this.value
  }

  /**
   * Called when a write fails (disk full, permissions). The change stays pending: the next update,
   * flush() or a retry a few seconds later writes it. Default: ignored (the node logs it).
   */
  onWriteError: (err: unknown) => void = () => {}

  /** Applies a change now and schedules the write (coalesced over `delayMs`). */
  update(change: (s: NodeStateFile) => void, delayMs = 200): void {
    change(this.value)
    this.value.receipts = this.value.receipts.slice(-MAX_RECEIPTS)
    this.value.loss = this.value.loss.slice(-MAX_LOSS_POINTS)
    this.dirty = true
    if (delayMs <= 0) {
      this.flush().catch(() => {}) // reported through onWriteError
      return
    }
    this.schedule(delayMs)
  }

  // The node's changes, each written as soon as it matters: membership, the person's pause and
  // receipts at once; the scheduler's accounting and training loss points coalesced.

  addProject(info: JoinedProject): void {
    this.update((s) => void s.projects.push({ ...info }), 0)
  }

  /** Forgets a project and its scheduler accounting; its receipts and loss points stay. */
  removeProject(key: string): void {
    this.update((s) => {
      s.projects = s.projects.filter((p) => p.key !== key)
      s.scheduler = forget(s.scheduler, key)
    }, 0)
  }

  /** Changes a joined project's share or pause; its new record, or null if not joined. */
  setProject(
    key: string,
    change: { share?: number; paused?: boolean; acceptedTerms?: string },
  ): JoinedProject | null {
    if (!this.value.projects.some((p) => p.key === key)) return null
    this.update((s) => {
      const p = s.projects.find((x) => x.key === key)!
      if (change.share !== undefined) p.share = change.share
      if (change.paused !== undefined) p.paused = change.paused
      if (change.acceptedTerms !== undefined) p.acceptedTerms = change.acceptedTerms
    }, 0)
    return { ...this.value.projects.find((p) => p.key === key)! }
  }

  setUserPaused(paused: boolean): void {
    this.update((s) => void (s.userPaused = paused), 0)
  }

  setScheduler(scheduler: SchedulerState): void {
    this.update((s) => void (s.scheduler = scheduler))
  }

  addLossPoint(point: LossPoint): void {
    this.update((s) => void s.loss.push(point), 2000)
  }

  /**
   * Keeps a receipt, once per project and round, with the round's validation loss (from the
   * receipt's score) as a loss point. Null if that receipt was kept already; otherwise the loss
   * point added, if any.
   */
  addReceipt(view: ReceiptView): { loss: LossPoint | null } | null {
    const known = this.value.receipts.some(
      (x) => x.project === view.project && x.round === view.round,
    )
    if (known) return null
    const loss: LossPoint | null =
      view.lossBefore === null
        ? null
        : {
            t: view.closedAt,
            project: view.project,
            round: view.round,
            step: 0,
            loss: view.lossBefore,
            kind: 'validation',
          }
    this.update((s) => {
      s.receipts.push(view)
      if (loss) s.loss.push(loss)
    }, 0)
    return { loss }
  }

  /**
   * Writes pending changes; resolves when the file holds everything changed so far, rejects if that
   * write failed (the changes stay pending, and later writes still run).
   */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    const write = this.writing.then(async () => {
      if (!this.dirty) return
      this.dirty = false
      try {
        await writeJsonAtomic(this.path, this.value)
      } catch (err) {
        this.dirty = true
        this.schedule(RETRY_MS)
        this.onWriteError(err)
        throw err
      }
    })
    // The chain itself never stays rejected: one failed write must not wedge every later one.
    this.writing = write.catch(() => {})
    return write
  }

  private schedule(delayMs: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = null
      this.flush().catch(() => {}) // reported through onWriteError, and retried by the next change
    }, delayMs)
    this.timer.unref?.()
  }
}
