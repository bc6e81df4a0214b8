/**
 * The contributor node: what a volunteer's machine runs, in the Electron shell or as `tandem
 * daemon`. It composes the parts built elsewhere:
 *
 *   identity + corestore (one store for datasets, ledgers and update cores) + TandemNode (swarm)
 *   settings (persisted, live) → engine options, rate caps, run policy
 *   one Participant per joined project (participant.ts), all sharing ONE TrainingEngine
 *   the scheduler (scheduler.ts): which project trains next, by resource share, decided only at
 *     round boundaries (the participants' `gate`); compute-seconds are recorded per round
 *   the run policy (policy.ts): user pause, battery, schedule windows, idle-only. Stopping mid-round
 *     pauses the engine at the next step (well under a second); resuming continues the same round
 *   optionally the host role (ProjectHost) for a project whose ledger this identity writes
 *   local history (node-state.ts): joined projects, receipts, loss points
 *
 * Everything the UI sees goes through `api` (core/node/api.ts implements the contract on top of
 * this class) and the 'event' stream. The node never trusts its own state file over the ledgers:
 * credits and receipts shown come from receipts the host wrote.
 */
import { EventEmitter } from 'node:events'
import { statfs } from 'node:fs/promises'
import { availableParallelism, freemem, totalmem } from 'node:os'
import { join } from 'node:path'
import type {
  ApiEvent,
  BackendReport,
  CreditsSummary,
  LossPoint,
  NodeActivity,
  NodeStatus,
  Preflight,
  ReceiptView,
  RoundProgress,
  Settings,
} from '../api/contract.js'
import { TandemError } from '../api/errors.js'
import { DatasetStore } from '../data/dataset-store.js'
import {
  BACKENDS,
  probeBackend,
  type BackendName,
  type BackendSelection,
} from '../engine/backends/probe.js'
import { TrainingEngine, type EngineOptions } from '../engine/engine.js'
import * as tf from '../engine/tf.js'
import type { ProjectHost } from '../host/host.js'
import { DEFAULT_CREDIT_POLICY, racAt, type CreditPolicy } from '../ledger/credits.js'
import { addContribution, newStanding, type Standing } from '../ledger/standing.js'
import { loadOrCreateIdentity, type Identity } from '../net/identity.js'
import { TandemNode } from '../net/node.js'
import { appPaths, type AppPaths } from '../util/app-paths.js'
import { NodeLog } from './log.js'
import { NodeStateStore, type JoinedProject } from './node-state.js'
import { Participant, type ParticipantState, type ReceiptRecord } from './participant/participant.js'
import { runDecision, nextChange, type PolicyEnv, type RunDecision } from './policy.js'
import { capsFromSettings, RateLimiter } from './rate-limit.js'
import { pick, record, forget } from './scheduler.js'
import { SettingsStore } from './settings.js'

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
   * moments) or was told to go and has not yet come (default 10 s). See gate().
   */
  handoffGraceMs?: number
  /** Wall clock (Unix ms) for the schedule and timestamps; tests move it. */
  now?: () => number
}

export interface NodeEvents {
  event: [ApiEvent]
}

interface Joined {
  info: JoinedProject
  participant: Participant
  /** The participant wants to train this round and was told to wait. */
  waiting: number | null
  progress: RoundProgress | null
  startedAt: number | null
  /** When (monotonic ms) this project last finished a round. */
  trainedAt: number | null
  /** When (monotonic ms) the scheduler chose it while it waited, if it has not come since. */
  chosenAt: number | null
}

const HEX32 = /^[0-9a-f]{64}$/

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null
}

/** A project key from a hex key or a `tandem://project/<key>` link. */
export function parseProjectRef(ref: string): string {
  const s = ref.trim()
  const m = /^tandem:\/\/project\/([0-9a-fA-F]{64})\/?$/.exec(s)
  const key = (m ? m[1]! : s).toLowerCase()
  if (!HEX32.test(key))
    throw new TandemError(
      'BAD_ARGUMENT',
      'a project is a 64-character hex key or tandem://project/<key>',
    )
  return key
}

export class ContributorNode extends EventEmitter<NodeEvents> {
  readonly paths: AppPaths
  readonly log: NodeLog
  readonly engine: TrainingEngine
  readonly limiter: RateLimiter
  private readonly logger
  private readonly joined = new Map<string, Joined>()
  private readonly env: PolicyEnv
  private decision: RunDecision = { run: true, activity: 'training', reason: '' }
  private backend: BackendReport | null = null
  private pauseAfterRound = false
  private training: string | null = null
  private policyTimer: NodeJS.Timeout | null = null
  private handoffTimer: NodeJS.Timeout | null = null
  private readonly handoffGraceMs: number
  private closed = false
  private hostRole: ProjectHost | null = null
  readonly startedAt: number
  private readonly now: () => number

  private constructor(
    private readonly opts: ContributorNodeOptions,
    paths: AppPaths,
    log: NodeLog,
    readonly identity: Identity,
    readonly settings: SettingsStore,
    readonly state: NodeStateStore,
    readonly datasets: DatasetStore,
    readonly net: TandemNode,
    limiter: RateLimiter,
  ) {
    super()
    this.paths = paths
    this.log = log
    this.logger = log.child('node')
    this.limiter = limiter
    this.now = opts.now ?? Date.now
    this.handoffGraceMs = opts.handoffGraceMs ?? 10_000
    this.startedAt = this.now()
    this.env = { headless: opts.shell === 'daemon' }
    this.engine = new TrainingEngine(this.engineOptions(settings.get()))
  }

  static async open(opts: ContributorNodeOptions): Promise<ContributorNode> {
    const paths = appPaths(opts.home ? { TANDEM_HOME: opts.home } : process.env)
    const log = new NodeLog({ dir: paths.log, echo: opts.logEcho })
    const identity = await loadOrCreateIdentity(paths.data)
    const settings = await SettingsStore.open({ dir: paths.config })
    const state = await NodeStateStore.open(paths.data)
    const datasets = await DatasetStore.open({ dataDir: paths.data })
    const limiter = new RateLimiter(capsFromSettings(settings.get()))
    const net = new TandemNode({
      keyPair: identity,
      bootstrap: opts.bootstrap,
      corestore: datasets.corestore,
      roles: ['contributor', 'seeder'],
      agent: 'tandem-node',
      wrapConnection: (conn) => limiter.attach(conn),
    })
    const node = new ContributorNode(
      opts,
      paths,
      log,
      identity,
      settings,
      state,
      datasets,
      net,
      limiter,
    )
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
    for (const info of s.projects) this.startParticipant(info)
  }

  // ---------------------------------------------------------------------------------------------
  // Settings and policy

  private engineOptions(s: Settings): EngineOptions {
    const backend =
      !s.useGpu && (s.backend === 'auto' || s.backend === 'tfjs-node-gpu' || s.backend === 'webgpu')
        ? 'wasm'
        : s.backend
    return { backend, maxThreads: s.maxThreads, dutyCycle: s.dutyCycle, ...this.opts.engine }
  }

  private applySettings(settings: Settings, keys: readonly string[]): void {
    this.logger.info(`settings changed: ${keys.join(', ')}`)
    this.engine.setOptions(this.engineOptions(settings))
    this.limiter.setCaps(capsFromSettings(settings))
    this.evaluatePolicy()
    this.push({ event: 'settings', data: settings })
  }

  /**
   * A job is about to start on the engine's workers (it chose its backend). engine.train() marks
   * the engine running when it starts, so a pause decided while the round was still fetching its
   * checkpoint (training was granted, no job yet) would be lost: apply it again before the first
   * step. The chosen backend is what status reports from now on (pre-flight only predicts it; a
   * fallback after a failure mid-run shows here), with why the better ones were not used.
   */
  private onEngineBackend(selection: BackendSelection): void {
    if (!this.decision.run && this.training) this.engine.pause()
    let skipped: BackendReport['skipped']
    if (selection.forced) skipped = this.notTried(selection.chosen)
    else {
      const earlier = new Map((this.backend?.skipped ?? []).map((s) => [s.name, s.reason]))
      const reasons = new Map<string, string>(selection.skipped.map((s) => [s.name, s.detail]))
      skipped = BACKENDS.slice(0, Math.max(0, BACKENDS.indexOf(selection.chosen))).flatMap(
        (name) => {
          const reason = reasons.get(name) ?? earlier.get(name)
          return reason === undefined ? [] : [{ name, reason }]
        },
      )
    }
    this.backend = { chosen: selection.chosen, device: selection.device, skipped }
    this.pushStatus()
  }

  /** The shell reports the user's idle time and power source. */
  setEnvironment(env: { idleSec?: number; onBattery?: boolean }): void {
    if (env.idleSec !== undefined) this.env.idleSec = env.idleSec
    if (env.onBattery !== undefined) this.env.onBattery = env.onBattery
    this.evaluatePolicy()
  }

  /** Re-decides whether to compute now; pauses or resumes the engine and re-arms the timer. */
  evaluatePolicy(): void {
    if (this.closed) return
    const settings = this.settings.get()
    const now = new Date(this.now())
    const before = this.decision
    this.decision = runDecision({
      settings,
      now,
      env: this.env,
      userPaused: this.state.get().userPaused,
    })
    if (this.decision.run) {
      if (this.engine.paused) this.engine.resume()
      if (!before.run) this.pokeWaiting()
    } else if (this.training && !this.engine.paused) {
      this.engine.pause()
    }
    if (before.run !== this.decision.run || before.reason !== this.decision.reason) {
      this.logger.info(
        this.decision.run ? 'computing allowed' : `not computing: ${this.decision.reason}`,
      )
    }
    if (this.policyTimer) clearTimeout(this.policyTimer)
    const next = nextChange(settings, now)
    // Idle time is reported by the shell as it changes; the schedule is the only clock-driven input.
    const wait = next ? Math.min(next.getTime() - now.getTime() + 50, 2 ** 31 - 1) : null
    this.policyTimer =
      wait !== null && wait > 0 ? setTimeout(() => this.evaluatePolicy(), wait) : null
    this.policyTimer?.unref()
    this.pushStatus()
  }

  pause(mode: 'now' | 'after-round' = 'now'): void {
    if (mode === 'after-round' && this.training) {
      this.pauseAfterRound = true
      this.logger.info('pausing after this round')
      this.pushStatus()
      return
    }
    this.pauseAfterRound = false
    this.state.update((s) => void (s.userPaused = true), 0)
    this.evaluatePolicy()
  }

  resume(): void {
    this.pauseAfterRound = false
    this.state.update((s) => void (s.userPaused = false), 0)
    this.evaluatePolicy()
  }

  // ---------------------------------------------------------------------------------------------
  // Projects

  joinedProjects(): JoinedProject[] {
    return this.state.get().projects.map((p) => ({ ...p }))
  }

  participant(key: string): Participant | undefined {
    return this.joined.get(key)?.participant
  }

  async join(ref: string, share = 100): Promise<JoinedProject> {
    const key = parseProjectRef(ref)
    const existing = this.state.get().projects.find((p) => p.key === key)
    if (existing) return { ...existing }
    const info: JoinedProject = { key, share, paused: false, joinedAt: this.now() }
    this.state.update((s) => void s.projects.push(info), 0)
    this.logger.info(`joined project ${key.slice(0, 12)}…`)
    this.startParticipant(info)
    return { ...info }
  }

  async leave(ref: string): Promise<void> {
    const key = parseProjectRef(ref)
    const j = this.joined.get(key)
    if (!j && !this.state.get().projects.some((p) => p.key === key))
      throw new TandemError('PROJECT_NOT_FOUND', `not a member of project ${key}`)
    this.joined.delete(key)
    this.state.update((s) => {
      s.projects = s.projects.filter((p) => p.key !== key)
      s.scheduler = forget(s.scheduler, key)
    }, 0)
    await j?.participant.stop()
    await j?.participant
      .discardLocalState()
      .catch((err: unknown) =>
        this.logger.warn(`left project ${key.slice(0, 12)}…: ${String(err)}`),
      )
    this.logger.info(`left project ${key.slice(0, 12)}…`)
    this.pushStatus()
  }

  updateProject(key: string, change: { share?: number; paused?: boolean }): JoinedProject {
    const info = this.state.get().projects.find((p) => p.key === key)
    if (!info) throw new TandemError('PROJECT_NOT_FOUND', `not a member of project ${key}`)
    this.state.update((s) => {
      const p = s.projects.find((x) => x.key === key)!
      if (change.share !== undefined) p.share = change.share
      if (change.paused !== undefined) p.paused = change.paused
    }, 0)
    const j = this.joined.get(key)
    if (j) j.info = { ...this.state.get().projects.find((p) => p.key === key)! }
    if (change.paused === false) this.pokeWaiting()
    this.pushStatus()
    return { ...j!.info }
  }

  private startParticipant(info: JoinedProject): void {
    const participant = new Participant({
      node: this.net,
      store: this.datasets.corestore,
      keyPair: this.identity,
      project: info.key,
      engine: this.engine,
      stateDir: join(this.paths.data, 'projects'),
      ledgerTimeoutMs: this.opts.fetchTimeoutMs,
      dataTimeoutMs: this.opts.fetchTimeoutMs,
      gate: (round) => this.gate(info.key, round),
      diskCapBytes: () => this.settings.get().diskCapMiB * 1024 * 1024,
      now: this.now,
    })
    const j: Joined = {
      info,
      participant,
      waiting: null,
      progress: null,
      startedAt: null,
      trainedAt: null,
      chosenAt: null,
    }
    this.joined.set(info.key, j)
    const log = this.log.child('project')
    const short = info.key.slice(0, 8)
    participant.on('state', (state, detail) => this.onParticipantState(j, state, detail))
    participant.on('progress', (p) => {
      j.progress = {
        project: info.key,
        round: p.round,
        phase: 'training',
        step: p.step,
        steps: p.steps,
        etaSec: p.etaMs / 1000,
        samplesPerSec: p.samplesPerSec,
        loss: Number.isFinite(p.loss) ? p.loss : null,
      }
      this.push({ event: 'progress', data: j.progress })
      if (Number.isFinite(p.loss)) {
        const point: LossPoint = {
          t: this.now(),
          project: info.key,
          round: p.round,
          step: p.step,
          loss: p.loss,
          kind: 'train',
        }
        this.state.update((s) => void s.loss.push(point), 2000)
        this.push({ event: 'loss', data: point })
      }
    })
    participant.on('trained', (t) => this.onTrained(j, t.round, t.seconds))
    participant.on('receipt', (r) => this.onReceipt(j, r))
    participant.on('offer', (o) =>
      log.info(`${short}: round ${o.round} update ${o.status}${o.reason ? ` (${o.reason})` : ''}`),
    )
    participant.on('warning', (err) =>
      log.warn(`${short}: ${err instanceof Error ? err.message : String(err)}`),
    )
    participant.start().catch((err: unknown) => log.error(`${short}: ${String(err)}`))
  }

  private onParticipantState(j: Joined, state: ParticipantState, detail: string): void {
    this.log.child('project').debug(`${j.info.key.slice(0, 8)}: ${state} ${detail}`)
    if (state === 'publishing' && j.progress) {
      j.progress = { ...j.progress, phase: 'uploading', etaSec: null }
      this.push({ event: 'progress', data: j.progress })
    } else if ((state === 'waiting-ack' || state === 'waiting-receipt') && j.progress) {
      j.progress = { ...j.progress, phase: 'submitted', etaSec: null }
      this.push({ event: 'progress', data: j.progress })
    }
    this.pushStatus()
  }

  /**
   * The participants ask here before training a round. One round trains at a time (one engine);
   * the scheduler picks among the projects that want to train, by resource share.
   *
   * "Want to train" is not only "has an open round right now". A project whose rounds follow one
   * another (the host opens the next as soon as it closes one) never has a round open at the
   * instant its own round ends, so a work-conserving pick would hand the engine to the other
   * project at every boundary: strict alternation, whatever the shares. So a project that just
   * finished a round still counts as ready for handoffGraceMs, and if it is its turn the others
   * wait that long for its next round. Likewise a waiting project the scheduler chose keeps its
   * claim only that long: if its round closed meanwhile (it will not come), the others go.
   */
  private gate(key: string, round: number): boolean {
    const j = this.joined.get(key)
    if (!j || this.closed) return false
    j.waiting = round
    j.chosenAt = null
    if (!this.decision.run || this.pauseAfterRound || j.info.paused) return false
    if (this.training !== null && this.training !== key) return false
    const at = performance.now()
    const projects = [...this.joined.values()].map((x) => ({
      key: x.info.key,
      share: x.info.share,
      joined: true,
      paused: x.info.paused,
      ready: x === j || this.ready(x, at),
    }))
    const choice = pick(projects, this.state.get().scheduler)
    this.state.update((s) => void (s.scheduler = choice.state))
    if (choice.key !== key) {
      const chosen = choice.key ? this.joined.get(choice.key) : undefined
      if (chosen) {
        if (chosen.waiting !== null) {
          chosen.chosenAt ??= at
          chosen.participant.poke()
        }
        // When its claim lapses, the others ask again.
        const since = chosen.waiting !== null ? chosen.chosenAt! : (chosen.trainedAt ?? at)
        this.armHandoff(since + this.handoffGraceMs - at)
      }
      return false
    }
    j.waiting = null
    j.trainedAt = null
    j.startedAt = this.now()
    this.training = key
    j.progress = {
      project: key,
      round,
      phase: 'downloading',
      step: 0,
      steps: 0,
      etaSec: null,
      samplesPerSec: 0,
      loss: null,
    }
    this.push({ event: 'progress', data: j.progress })
    this.pushStatus()
    return true
  }

  /** Whether the scheduler may pick `x` now (see gate). */
  private ready(x: Joined, at: number): boolean {
    if (x.waiting !== null) return x.chosenAt === null || at - x.chosenAt < this.handoffGraceMs
    return x.trainedAt !== null && at - x.trainedAt < this.handoffGraceMs
  }

  private armHandoff(ms: number): void {
    if (this.handoffTimer) clearTimeout(this.handoffTimer)
    this.handoffTimer = setTimeout(
      () => {
        this.handoffTimer = null
        this.pokeWaiting()
      },
      Math.max(0, ms) + 20,
    )
    this.handoffTimer.unref()
  }

  private onTrained(j: Joined, round: number, seconds: number): void {
    this.state.update((s) => void (s.scheduler = record(s.scheduler, j.info.key, seconds)))
    this.log
      .child('engine')
      .info(`${j.info.key.slice(0, 8)}: round ${round} trained in ${seconds.toFixed(1)} s`)
    if (this.training === j.info.key) this.training = null
    j.trainedAt = performance.now()
    if (this.pauseAfterRound) {
      this.pauseAfterRound = false
      this.state.update((s) => void (s.userPaused = true), 0)
      this.evaluatePolicy()
    }
    this.pokeWaiting()
    this.pushStatus()
  }

  private pokeWaiting(): void {
    for (const j of this.joined.values()) if (j.waiting !== null) j.participant.poke()
  }

  private onReceipt(j: Joined, r: ReceiptRecord): void {
    const view: ReceiptView = {
      project: j.info.key,
      projectName: j.participant.manifest?.name ?? j.info.key.slice(0, 8),
      round: r.round,
      closedAt: r.closedAt,
      updateHash: r.updateHash,
      accepted: r.accepted,
      reason: r.reason ?? null,
      samples: r.samples,
      quality: r.quality,
      credits: r.credits,
      // A non-finite loss would be written as null and make the state file fail its schema.
      lossBefore: finiteOrNull(r.score?.lossBefore),
      lossAfter: finiteOrNull(r.score?.lossAfter),
      ...(r.receivedAt !== undefined ? { receivedAt: r.receivedAt } : {}),
      ...(r.deadline !== undefined ? { deadline: r.deadline } : {}),
      ...(r.offeredAt !== undefined ? { offeredAt: r.offeredAt } : {}),
    }
    const known = this.state
      .get()
      .receipts.some((x) => x.project === view.project && x.round === view.round)
    if (known) return
    this.state.update((s) => {
      s.receipts.push(view)
      if (view.lossBefore !== null)
        s.loss.push({
          t: r.closedAt,
          project: view.project,
          round: r.round,
          step: 0,
          loss: view.lossBefore,
          kind: 'validation',
        })
    }, 0)
    this.log
      .child('credits')
      .info(
        `${view.projectName}: round ${r.round} ${r.accepted ? `accepted, ${r.credits} credits` : `rejected (${r.reason})`}`,
      )
    this.push({ event: 'receipt', data: view })
    if (view.lossBefore !== null) this.push({ event: 'loss', data: this.state.get().loss.at(-1)! })
    this.push({ event: 'credits', data: this.creditsSummary() })
  }

  /**
   * Credits as this node's receipts record them (the host computed every number; replaying the
   * ledger with `tandem verify` checks them). RAC and reputation follow each project's credit policy.
   */
  creditsSummary(): CreditsSummary {
    const now = this.now()
    const receipts = [...this.state.get().receipts].sort((a, b) => a.closedAt - b.closedAt)
    const policyOf = (project: string) =>
      this.joined.get(project)?.participant.manifest?.credits ?? DEFAULT_CREDIT_POLICY
    const per = new Map<string, { name: string; policy: CreditPolicy; standing: Standing }>()
    const history: CreditsSummary['history'] = []
    let total = 0
    for (const r of receipts) {
      let p = per.get(r.project)
      if (!p) {
        const policy = policyOf(r.project)
        p = {
          name: r.projectName,
          policy,
          standing: newStanding(this.identity.publicKey.toString('hex'), policy),
        }
        per.set(r.project, p)
      }
      addContribution(p.standing, r, r.closedAt, p.policy)
      total += r.credits
      history.push({ t: r.closedAt, total })
    }
    const projects = [...per].map(([project, { name, policy, standing: s }]) => ({
      project,
      name,
      credits: s.credits,
      rac: s.rac ? racAt(s.rac, now, policy.halfLifeDays) : 0,
      reputation: s.reputation,
      accepted: s.accepted,
      rejected: s.rejected,
    }))
    return { total, rac: projects.reduce((sum, p) => sum + p.rac, 0), projects, history }
  }

  // ---------------------------------------------------------------------------------------------
  // Host role

  /** Attaches a ProjectHost this node runs (its identity writes that project's ledger). */
  attachHost(host: ProjectHost): void {
    this.hostRole = host
    const log = this.log.child('host')
    host.on('round-open', (e) =>
      log.info(
        `round ${e.round} open until ${new Date(e.deadline).toISOString()}${e.resumed ? ' (resumed)' : ''}`,
      ),
    )
    host.on('round-closed', (e) =>
      log.info(
        `round ${e.round} closed: ${e.accepted} accepted, ${e.rejected} rejected, loss ${e.lossBefore.toFixed(4)} → ${e.lossAfter.toFixed(4)}`,
      ),
    )
    host.on('warning', (err) => log.warn(String(err)))
  }

  get hosting(): string | null {
    return this.hostRole?.project.toString('hex') ?? null
  }

  // ---------------------------------------------------------------------------------------------
  // Status

  status(): NodeStatus {
    const s = this.state.get()
    const training = this.training ? this.joined.get(this.training) : undefined
    let activity: NodeActivity
    let reason: string
    if (!this.decision.run) {
      activity = this.decision.activity
      reason = this.decision.reason
    } else if (this.net.status().state === 'offline' && this.net.status().peers.length === 0) {
      activity = 'offline'
      reason = 'not connected to the network yet'
    } else if (training) {
      activity = 'training'
      reason = `${training.participant.manifest?.name ?? 'project'}: round ${training.progress?.round ?? '?'}`
    } else if (this.joined.size === 0) {
      activity = 'idle'
      reason = 'no project joined'
    } else {
      activity = 'waiting'
      const first = [...this.joined.values()][0]!
      reason = first.participant.status().detail || 'waiting for the next round'
    }
    if (s.userPaused) {
      activity = 'paused'
      reason = 'paused by you'
    }
    return {
      activity,
      reason,
      userPaused: s.userPaused,
      pauseAfterRound: this.pauseAfterRound,
      key: this.identity.publicKey.toString('hex'),
      displayId: this.identity.displayId,
      peers: this.net.status().peers.length,
      backend: this.backend,
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

  async preflight(): Promise<Preflight> {
    const settings = this.settings.get()
    const problems: string[] = []
    const backend = await this.backendReport()
    if (backend.chosen === 'none') problems.push('no usable training backend')
    let freeBytes = 0
    try {
      const fs = await statfs(this.paths.data)
      freeBytes = fs.bavail * fs.bsize
    } catch {
      problems.push(`cannot read free disk space of ${this.paths.data}`)
    }
    const diskNeed = settings.diskCapMiB * 1024 * 1024
    if (freeBytes > 0 && freeBytes < Math.min(diskNeed, 512 * 1024 * 1024))
      problems.push(`only ${Math.round(freeBytes / 2 ** 20)} MiB free on disk`)
    if (freemem() < 256 * 1024 * 1024) problems.push('less than 256 MiB of memory free')
    const st = this.net.status()
    return {
      backend,
      memory: { totalBytes: totalmem(), freeBytes: freemem() },
      disk: { path: this.paths.data, freeBytes },
      network: { online: st.state === 'online', peers: st.peers.length },
      canHelp: problems.length === 0,
      problems,
    }
  }

  /**
   * Which backend training would use and why not the better ones. Probes only: activating one
   * here would change the main thread's tfjs backend, which scores rounds and must stay put.
   */
  async backendReport(): Promise<BackendReport> {
    // A probe registers its backend in this thread's tfjs. If tfjs had no backend yet, the best one
    // registered becomes this thread's at its first op: a probed wasm (whose init is async) makes
    // every later op throw, a probed tfjs-node silently takes over. Settle this thread's backend
    // (the default) first, so scoring and sampling here never depend on whether a probe ran.
    await tf.ready()
    const settings = this.settings.get()
    const pref = this.engineOptions(settings).backend ?? 'auto'
    const candidates = pref === 'auto' ? BACKENDS : [pref]
    const skipped: BackendReport['skipped'] = pref === 'auto' ? [] : this.notTried(pref)
    for (const name of candidates) {
      const status = await probeBackend(name)
      if (status.available) {
        this.backend = { chosen: name, device: status.device ?? name, skipped }
        return this.backend
      }
      skipped.push({ name, reason: status.detail })
    }
    return { chosen: 'none', device: 'none', skipped }
  }

  /**
   * A forced backend is not "the fastest here": the better ones and what passed them over. They
   * are not probed: a person may force one precisely because a better one breaks.
   */
  private notTried(forced: BackendName): BackendReport['skipped'] {
    const by =
      this.opts.engine?.backend !== undefined && this.opts.engine.backend !== 'auto'
        ? `this node was started with --backend ${forced}`
        : this.settings.get().backend === forced
          ? `the Backend setting is ${forced}`
          : `"Use the GPU" is off`
    return BACKENDS.slice(0, Math.max(0, BACKENDS.indexOf(forced))).map((name) => ({
      name,
      reason: `not tried: ${by}`,
    }))
  }

  get cores(): number {
    return availableParallelism()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.policyTimer) clearTimeout(this.policyTimer)
    if (this.handoffTimer) clearTimeout(this.handoffTimer)
    this.logger.info('node stopping')
    await this.hostRole?.stop().catch(() => {})
    await Promise.all([...this.joined.values()].map((j) => j.participant.stop().catch(() => {})))
    await this.state.flush().catch(() => {})
    await this.settings.flushed().catch(() => {})
    await this.net.destroy().catch(() => {})
    this.limiter.close()
    await this.datasets.close()
    await this.log.close()
  }
}
