/**
 * The contributor node: what a volunteer's machine runs, in the Electron shell or as `tandem
 * daemon`. It composes the parts built elsewhere:
 *
 *   identity + corestore (one store for datasets, ledgers and update cores) + SwarmNode (swarm),
 *     opened first and closed last (node-resources.ts)
 *   settings (persisted, live) → engine options, rate caps, run policy
 *   the joined projects (project-membership.ts: join, leave, share): one Participant each
 *     (participant/), all sharing ONE TrainingEngine, each in a ProjectSlot (project-slot.ts) that
 *     turns its events into progress, loss points, receipts
 *   engine turns (engine-turns.ts): which project trains next, by resource share (scheduler.ts),
 *     decided only at round boundaries (the participants' `gate`), with a hand-off grace
 *   the run policy (policy.ts, applied by run-control.ts): user pause, battery, schedule windows,
 *     idle-only. Stopping mid-round pauses the engine at the next step (well under a second);
 *     resuming continues the same round
 *   optionally the host role (ProjectHost, host-role.ts) for a project whose ledger this
 *     identity writes
 *   local history (node-state.ts): joined projects, receipts, loss points; credits from the
 *     receipts (credits-summary.ts); backend and pre-flight reports (backend-report.ts, preflight.ts)
 *
 * Everything the UI sees goes through `api` (core/node/api.ts implements the contract on top of
 * this class) and the 'event' stream. The node never trusts its own state file over the ledgers:
 * credits and receipts shown come from receipts the host wrote.
 */
import { EventEmitter } from 'node:events'
import { availableParallelism } from 'node:os'
import type {
  ApiEvent,
  BackendReport,
  CreditsSummary,
  NodeStatus,
  Preflight,
  Settings,
} from '../api/contract.js'
import { isTandemError } from '../api/errors.js'
import type { ShellEnvironment } from '../api/shell.js'
import type { DatasetStore } from '../data/dataset-store.js'
import type { BackendSelection } from '../engine/backends/probe.js'
import { REFERENCE_BATCH, referenceSpec } from '../engine/backends/reference-workload.js'
import { describeTable, type SpeedTable } from '../engine/backends/speed.js'
import { TrainingEngine, type EngineOptions } from '../engine/engine.js'
import type { ProjectHost } from '../host/host.js'
import { FlagGossip } from './flag-gossip.js'
import { join } from 'node:path'
import { FlagBook, FlagsFile } from './flags.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'
import { DEFAULT_CREDIT_POLICY } from '../ledger/credits.js'
import type { Identity } from '../net/identity.js'
import type { SwarmNode } from '../net/swarm-node.js'
import type { AppPaths } from '../util/app-paths.js'
import { BackendReports, describeSelection } from './backend-report.js'
import { FileSpeedCache } from './backend-speed-cache.js'
import { creditsSummary } from './credits-summary.js'
import { EngineTurns } from './engine-turns.js'
import { engineOptions } from './engine-settings.js'
import { logHostEvents } from './host-role.js'
import type { NodeLog } from './log.js'
import { activityOf } from './node-status.js'
import { closeResources, openResources, type NodeResources } from './node-resources.js'
import type { JoinedProject, NodeStateStore } from './node-state.js'
import type { Participant } from './participant/participant.js'
import { preflight } from './preflight.js'
import { ProjectMembership } from './project-membership.js'
import { capsFromSettings, type RateLimiter } from './rate-limit.js'
import { RunControl } from './run-control.js'
import type { SettingsStore } from './settings.js'

export interface ContributorNodeOptions {
  /** State root (TANDEM_HOME layout); default the platform's app dirs. */
  home?: string
  /** host:port of a private DHT (tests, the demo); absent: the public DHT. */
  bootstrap?: string[]
  /** 'daemon': no desktop session, so idle-only does not apply. */
  shell: 'electron' | 'daemon'
  /** Log lines also go here (e.g. stdout), as JSON lines. */
  logEcho?: { write(line: string): unknown }
  /** Engine overrides that win over settings (tests: the cpu backend). */
  engine?: Partial<EngineOptions>
  /** ms a participant waits for a ledger or dataset block before retrying (default 60 s). */
  fetchTimeoutMs?: number
  /**
   * How long the scheduler holds the engine for the project whose turn it is but which has no
   * round open right now, because it just finished one (its next round usually opens within
   * moments) or was told to go and has not yet come (default 10 s). See engine-turns.ts.
   */
  handoffGraceMs?: number
  /** Wall clock (Unix ms) for the schedule and timestamps; tests move it. */
  now?: () => number
}

export interface NodeEvents {
  event: [ApiEvent]
}

export class ContributorNode extends EventEmitter<NodeEvents> {
  readonly paths: AppPaths
  readonly log: NodeLog
  readonly identity: Identity
  readonly settings: SettingsStore
  readonly state: NodeStateStore
  readonly datasets: DatasetStore
  readonly net: SwarmNode
  readonly limiter: RateLimiter
  readonly engine: TrainingEngine
  private readonly logger
  private readonly projects: ProjectMembership
  private readonly backends: BackendReports
  private readonly speeds: FileSpeedCache
  private readonly run: RunControl
  private readonly turns: EngineTurns
  private closed = false
  private hostRole: ProjectHost | null = null
  /** Flags on projects, this node's and its peers' (docs/governance.md, "Flags"). */
  readonly flags: FlagBook
  private readonly flagGossip: FlagGossip
  readonly startedAt: number
  private readonly now: () => number

  private constructor(
    private readonly opts: ContributorNodeOptions,
    private readonly resources: NodeResources,
  ) {
    super()
    this.paths = resources.paths
    this.log = resources.log
    this.identity = resources.identity
    this.settings = resources.settings
    this.state = resources.state
    this.datasets = resources.datasets
    this.net = resources.net
    this.limiter = resources.limiter
    this.logger = this.log.child('node')
    this.now = opts.now ?? Date.now
    this.startedAt = this.now()
    this.speeds = new FileSpeedCache(this.paths.data)
    this.engine = new TrainingEngine({
      speedCache: this.speeds,
      ...engineOptions(this.settings.get(), opts.engine),
    })
    this.backends = new BackendReports(
      () => this.settings.get(),
      opts.engine,
      () => this.measureReference(),
    )
    this.run = new RunControl({
      settings: () => this.settings.get(),
      userPaused: {
        get: () => this.state.get().userPaused,
        set: (paused) => this.state.setUserPaused(paused),
      },
      engine: this.engine,
      training: () => this.turns.training !== null,
      onAllowed: () => this.turns.pokeWaiting(),
      onChange: () => this.pushStatus(),
      logger: this.logger,
      now: this.now,
      headless: opts.shell === 'daemon',
    })
    this.turns = new EngineTurns({
      scheduler: {
        get: () => this.state.get().scheduler,
        set: (scheduler) => this.state.setScheduler(scheduler),
      },
      mayStart: () => this.run.mayStart,
      onGrant: (key, round) => this.onGrant(key, round),
      handoffGraceMs: opts.handoffGraceMs,
    })
    this.flags = new FlagBook({
      now: this.now,
      // Accepted work in the project, from the ledger this node holds (its own or the host's).
      contributed: (project, flagger) => {
        const state =
          this.hosting === project
            ? this.hostRole?.ledgerState
            : this.participant(project)?.ledgerState
        return Boolean(
          state?.rounds.some((r) =>
            r.receipt?.contributions.some((c) => c.contributor === flagger && c.accepted),
          ),
        )
      },
    })
    this.flagGossip = new FlagGossip({
      node: this.net,
      book: this.flags,
      keyPair: this.identity,
      now: this.now,
      onFlag: (f) => {
        this.push({
          event: 'flag',
          data: { project: f.project, flagger: f.flagger, at: f.at, reason: f.reason },
        })
        this.saveFlags()
      },
    })
    this.projects = new ProjectMembership({
      net: this.net,
      store: this.datasets.corestore,
      identity: this.identity,
      engine: this.engine,
      turns: this.turns,
      state: this.state,
      log: this.log,
      stateDir: this.paths.data,
      fetchTimeoutMs: opts.fetchTimeoutMs,
      diskCapBytes: () => this.settings.get().diskCapMiB * 1024 * 1024,
      now: this.now,
      push: (e) => this.push(e),
      pushStatus: () => this.pushStatus(),
      credits: () => this.creditsSummary(),
      trained: (key, round, seconds) => this.onTrained(key, round, seconds),
    })
  }

  static async open(opts: ContributorNodeOptions): Promise<ContributorNode> {
    const node = new ContributorNode(opts, await openResources(opts))
    await node.start()
    return node
  }

  private async start(): Promise<void> {
    const s = this.state.get()
    if (this.state.recovered) this.logger.warn(this.state.recovered.message)
    if (this.settings.recovered) this.logger.warn(this.settings.recovered.message)
    for (const note of this.settings.migrationNotes) this.logger.info(note)
    this.logger.info(`node ${this.identity.displayId} starting (${this.opts.shell})`)
    this.settings.on('change', (settings, keys) => this.applySettings(settings, keys))
    await this.loadFlags()
    this.flagGossip.start()
    this.state.onWriteError = (err) =>
      this.logger.warn(`cannot save node state (will retry): ${(err as Error).message}`)
    this.engine.on('backend', (selection) => this.onEngineBackend(selection))
    this.log.on('entry', (entry) => this.push({ event: 'log', data: entry }))
    this.net.on('state', () => this.pushStatus())
    this.net.on('peer', () => this.pushStatus())
    this.net.on('peer-leave', () => this.pushStatus())
    this.net.on('warning', (err) => this.logger.warn(`net: ${String(err)}`))
    this.net.joinDiscovery()
    this.evaluatePolicy()
    for (const info of s.projects) this.projects.start(info)
  }

  // ---------------------------------------------------------------------------------------------
  // Settings and policy

  private applySettings(settings: Settings, keys: readonly string[]): void {
    this.logger.info(`settings changed: ${keys.join(', ')}`)
    this.engine.setOptions(engineOptions(settings, this.opts.engine))
    this.limiter.setCaps(capsFromSettings(settings))
    this.evaluatePolicy()
    this.push({ event: 'settings', data: settings })
  }

  /**
   * A job is about to start on the engine's workers (it chose its backend): a pause decided while
   * its round was still fetching applies now. The chosen backend is what status reports from now
   * on (pre-flight only predicts it; a fallback after a failure mid-run shows here), with why the
   * better ones were not used.
   */
  private onEngineBackend(selection: BackendSelection): void {
    this.run.jobStarting()
    this.backends.chosen(selection)
    this.warnSpeedCache()
    this.logger.info(describeSelection(selection))
    this.pushStatus()
  }

  /** A corrupt speed cache was set aside: say so once. */
  private warnSpeedCache(): void {
    if (!this.speeds.recovered) return
    this.logger.warn(this.speeds.recovered)
    this.speeds.recovered = null
  }

  /** `auto`'s measured table on the reference model, for pre-flight before any job; null while training. */
  private async measureReference(): Promise<SpeedTable | null> {
    try {
      const table = await this.engine.measure(referenceSpec(), REFERENCE_BATCH)
      this.warnSpeedCache()
      if (!table.cached) this.logger.info(`measured backends: ${describeTable(table)}`)
      return table
    } catch (err) {
      if (isTandemError(err) && err.code === 'WRONG_STATE') return null
      throw err
    }
  }

  /** The shell reports the user's idle time, power source and why it holds training. */
  setEnvironment(env: ShellEnvironment): void {
    this.run.setEnvironment(env)
  }

  /** Re-decides whether to compute now (run-control.ts). */
  evaluatePolicy(): void {
    this.run.evaluate()
  }

  pause(mode: 'now' | 'after-round' = 'now'): void {
    this.run.pause(mode)
  }

  resume(): void {
    this.run.resume()
  }

  // ---------------------------------------------------------------------------------------------
  // Projects

  joinedProjects(): JoinedProject[] {
    return this.projects.list()
  }

  participant(key: string): Participant | undefined {
    return this.projects.slot(key)?.participant
  }

  join(ref: string, share = 100): Promise<JoinedProject> {
    return this.projects.join(ref, share)
  }

  leave(ref: string): Promise<void> {
    return this.projects.leave(ref)
  }

  updateProject(key: string, change: { share?: number; paused?: boolean }): JoinedProject {
    return this.projects.update(key, change)
  }

  /** The engine was granted to `key` for `round` (engine-turns.ts); its round starts now. */
  private onGrant(key: string, round: number): void {
    this.projects.slot(key)!.granted(round)
    this.pushStatus()
  }

  private onTrained(key: string, round: number, seconds: number): void {
    this.log
      .child('engine')
      .info(`${key.slice(0, 8)}: round ${round} trained in ${seconds.toFixed(1)} s`)
    // Records the compute time, frees the engine and asks the waiting projects again; they ask
    // asynchronously (after a ledger read), so a pause applied below is in place before they do.
    this.turns.trained(key, seconds)
    this.run.roundEnded()
    this.pushStatus()
  }

  /**
   * Credits as this node's receipts record them (the host computed every number; replaying the
   * ledger with `tandem verify` checks them). RAC and reputation follow each project's credit policy.
   */
  creditsSummary(): CreditsSummary {
    const policyOf = (project: string) =>
      this.projects.slot(project)?.participant.manifest?.credits ?? DEFAULT_CREDIT_POLICY
    const me = this.identity.publicKey.toString('hex')
    return creditsSummary(this.state.get().receipts, me, policyOf, this.now())
  }

  // ---------------------------------------------------------------------------------------------
  // Host role

  private flagsTimer: NodeJS.Timeout | null = null

  /** Flags kept across restarts: <data dir>/flags.json, each flag checked again when loaded. */
  private async loadFlags(): Promise<void> {
    try {
      const file = await readJsonFile(join(this.paths.data, 'flags.json'), FlagsFile)
      for (const f of file?.flags ?? []) this.flags.add(f)
    } catch (err) {
      this.logger.warn(`flags file ignored: ${(err as Error).message}`)
    }
  }

  /** Writes the flags file a moment after a change (coalesced, atomic). */
  private saveFlags(): void {
    if (this.flagsTimer || this.closed) return
    this.flagsTimer = setTimeout(() => void this.writeFlags(), 1000)
    this.flagsTimer.unref()
  }

  private writeFlags(): Promise<void> {
    if (this.flagsTimer) clearTimeout(this.flagsTimer)
    this.flagsTimer = null
    const file = { version: 1 as const, flags: this.flags.all() }
    return writeJsonAtomic(join(this.paths.data, 'flags.json'), file).catch((err: unknown) =>
      this.logger.warn(`cannot save flags: ${(err as Error).message}`),
    )
  }

  /** Flags a project as this node; the flag spreads to the project's peers. */
  flagProject(project: string, reason: string) {
    return this.flagGossip.flag(project, reason)
  }

  /** Attaches a ProjectHost this node runs (its identity writes that project's ledger). */
  attachHost(host: ProjectHost): void {
    this.hostRole = host
    logHostEvents(host, this.log.child('host'))
  }

  get hosting(): string | null {
    return this.hostRole?.project.toString('hex') ?? null
  }

  /** The ProjectHost this node runs, if any. */
  get host(): ProjectHost | null {
    return this.hostRole
  }

  // ---------------------------------------------------------------------------------------------
  // Status

  status(): NodeStatus {
    const { userPaused } = this.state.get()
    const training = this.turns.training ? this.projects.slot(this.turns.training) : undefined
    const net = this.net.status()
    const { activity, reason } = activityOf({
      userPaused,
      decision: this.run.decision,
      offline: net.state === 'offline' && net.peers.length === 0,
      training: training ? { name: training.name, round: training.progress?.round } : null,
      joined: this.projects.size,
      firstDetail: () => this.projects.slots()[0]!.participant.status().detail,
    })
    return {
      activity,
      reason,
      userPaused,
      pauseAfterRound: this.run.pauseAfterRound,
      key: this.identity.publicKey.toString('hex'),
      displayId: this.identity.displayId,
      peers: net.peers.length,
      backend: this.backends.current,
      progress: training?.progress ?? null,
      startedAt: this.startedAt,
    }
  }

  private lastStatus = ''
  private pushStatus(): void {
    if (this.closed) return
    const status = this.status()
    const key = JSON.stringify({ ...status, progress: status.progress?.round })
    if (key === this.lastStatus) return
    this.lastStatus = key
    this.push({ event: 'status', data: status })
  }

  push(e: ApiEvent): void {
    if (!this.closed) this.emit('event', e)
  }

  get isClosed(): boolean {
    return this.closed
  }

  async preflight(): Promise<Preflight> {
    const st = this.net.status()
    return preflight({
      backend: await this.backendReport(),
      dataDir: this.paths.data,
      diskCapBytes: this.settings.get().diskCapMiB * 1024 * 1024,
      network: { online: st.state === 'online', peers: st.peers.length },
    })
  }

  /** Which backend training would use and why not the better ones (probes; backend-report.ts). */
  backendReport(): Promise<BackendReport> {
    return this.backends.probe()
  }

  get cores(): number {
    return availableParallelism()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.flagGossip.stop()
    if (this.flagsTimer) await this.writeFlags()
    this.run.close()
    this.turns.close()
    this.logger.info('node stopping')
    // Each part stops even if another failed; what failed is logged (the file is closed last).
    const warn = (what: string) => (err: unknown) =>
      this.logger.warn(`stopping: ${what}: ${err instanceof Error ? err.message : String(err)}`)
    await this.hostRole?.stop().catch(warn('host'))
    await this.projects.stopAll(warn)
    await closeResources(this.resources, warn)
  }
}
