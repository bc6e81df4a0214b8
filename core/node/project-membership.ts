/**
 * The projects this node is a member of, live: joining (the state file, a Participant in a
 * ProjectSlot, a place in the engine turns), leaving (stopped, local state discarded) and changing
 * a project's share or pause. The node (node.ts) composes it with the engine, the run policy and the
 * status; what one slot shows of its project is project-slot.ts. docs/node.md has the long story.
 */
import { join } from 'node:path'
import { TandemError } from '../api/errors.js'
import type Corestore from 'corestore'
import type { TrainingEngine } from '../engine/engine.js'
import type { Identity } from '../net/identity.js'
import type { SwarmNode } from '../net/swarm-node.js'
import type { EngineTurns } from './engine-turns.js'
import type { JoinedProject } from './node-state.js'
import { Participant } from './participant/participant.js'
import { ProjectSlot, type ProjectSlotContext } from './project-slot.js'
import { parseProjectRef } from './project-ref.js'

/** What each slot needs (ProjectSlotContext), plus what creating participants needs. */
export interface ProjectMembershipOptions extends ProjectSlotContext {
  net: SwarmNode
  store: Corestore
  identity: Identity
  engine: TrainingEngine
  turns: EngineTurns
  /** Where participants keep their files (receipts cache, residual). */
  stateDir: string
  /** ms a participant waits for a ledger or dataset block before retrying. */
  fetchTimeoutMs?: number
  diskCapBytes: () => number
}

export class ProjectMembership {
  private readonly joined = new Map<string, ProjectSlot>()
  private readonly logger

  constructor(private readonly opts: ProjectMembershipOptions) {
    this.logger = opts.log.child('node')
  }

  get size(): number {
    return this.joined.size
  }

  slot(key: string): ProjectSlot | undefined {
    return this.joined.get(key)
  }

  slots(): ProjectSlot[] {
    return [...this.joined.values()]
  }

  list(): JoinedProject[] {
    return this.opts.state.get().projects.map((p) => ({ ...p }))
  }

  async join(ref: string, share = 100): Promise<JoinedProject> {
    const key = parseProjectRef(ref)
    const existing = this.opts.state.get().projects.find((p) => p.key === key)
    if (existing) return { ...existing }
    const info: JoinedProject = { key, share, paused: false, joinedAt: this.opts.now() }
    this.opts.state.addProject(info)
    this.logger.info(`joined project ${key.slice(0, 12)}…`)
    this.start(info)
    return { ...info }
  }

  async leave(ref: string): Promise<void> {
    const key = parseProjectRef(ref)
    const j = this.joined.get(key)
    if (!j && !this.opts.state.get().projects.some((p) => p.key === key))
      throw new TandemError('PROJECT_NOT_FOUND', `not a member of project ${key}`)
    this.joined.delete(key)
    this.opts.turns.remove(key)
    this.opts.state.removeProject(key)
    await j?.participant.stop()
    await j?.participant
      .discardLocalState()
      .catch((err: unknown) =>
        this.logger.warn(`left project ${key.slice(0, 12)}…: ${String(err)}`),
      )
    this.logger.info(`left project ${key.slice(0, 12)}…`)
    this.opts.pushStatus()
  }

  update(key: string, change: { share?: number; paused?: boolean }): JoinedProject {
    const info = this.opts.state.setProject(key, change)
    if (!info) throw new TandemError('PROJECT_NOT_FOUND', `not a member of project ${key}`)
    const j = this.joined.get(key)
    if (j) j.info = info
    // Unpausing asks the waiting projects again.
    this.opts.turns.update(key, change)
    this.opts.pushStatus()
    return { ...info }
  }

  /** Starts the participant of a project already in the state file (at start-up, or joined). */
  start(info: JoinedProject): void {
    const o = this.opts
    const participant = new Participant({
      node: o.net,
      store: o.store,
      keyPair: o.identity,
      project: info.key,
      engine: o.engine,
      stateDir: join(o.stateDir, 'projects'),
      ledgerTimeoutMs: o.fetchTimeoutMs,
      dataTimeoutMs: o.fetchTimeoutMs,
      gate: (round) => o.turns.gate(info.key, round),
      diskCapBytes: o.diskCapBytes,
      // The terms this node accepted, kept in its state file (docs/governance.md).
      terms: {
        get: () => o.state.get().projects.find((p) => p.key === info.key)?.acceptedTerms,
        set: (hash) => void o.state.setProject(info.key, { acceptedTerms: hash }),
      },
      now: o.now,
    })
    const slot = new ProjectSlot(info, participant, o)
    this.joined.set(info.key, slot)
    o.turns.add(info.key, { share: info.share, paused: info.paused }, () => participant.poke())
    slot.start()
  }

  /** Stops every participant; each stops even if another failed (`warn` hears which). */
  async stopAll(warn: (what: string) => (err: unknown) => void): Promise<void> {
    await Promise.all(
      this.slots().map((j) =>
        j.participant.stop().catch(warn(`project ${j.info.key.slice(0, 8)}`)),
      ),
    )
  }
}
