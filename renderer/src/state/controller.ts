/**
 * Connects a Connection to the store: the initial fetches whenever the link (re)opens, the pushed
 * event stream, and the actions pages call. Actions return the node's answer and fold it into the
 * store, so the UI shows the result even before (or without) the matching pushed event.
 */
import type {
  ApiEvent,
  MethodName,
  MethodParams,
  MethodResult,
  SettingsPatch,
} from '../../../core/api/contract'
import type { Connection } from '../connection'
import { toUiError } from '../errors'
import {
  applyEvent,
  initialState,
  isLanguageModel,
  withLogs,
  withLoss,
  withProject,
  withReceipts,
  type AppState,
  type Resource,
} from './app-state'
import { createStore, type Store } from './store'

/** Without pushed events (an older preload), poll this often. */
const POLL_MS = 4000
const SAMPLE_LENGTH = 240

export class Controller {
  readonly store: Store<AppState>
  private readonly conn: Connection | null
  private readonly stops: Array<() => void> = []
  private readonly roundSeen = new Map<string, number>()
  private readonly sampling = new Set<string>()
  /** Projects whose sample was asked for again while one was being fetched. */
  private readonly sampleAgain = new Set<string>()
  private generation = 0

  constructor(conn: Connection | null) {
    this.conn = conn
    this.store = createStore(initialState(conn ? conn.link() : null))
  }

  get via(): Connection['via'] | null {
    return this.conn?.via ?? null
  }

  start(): () => void {
    const conn = this.conn
    if (!conn) return () => {}
    this.stops.push(
      conn.onLink((link) => {
        this.store.update((s) => ({ ...s, link }))
        if (link.kind === 'open') void this.refreshAll()
      }),
      conn.onEvent((event) => this.onEvent(event)),
    )
    if (conn.link().kind === 'open') void this.refreshAll()
    if (!conn.pushes) {
      const timer = setInterval(() => void this.refreshAll(), POLL_MS)
      this.stops.push(() => clearInterval(timer))
    }
    return () => {
      for (const stop of this.stops.splice(0)) stop()
    }
  }

  retryNow(): void {
    this.conn?.retryNow()
  }

  /** A typed call; throws TandemError / LinkError like the client does. */
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    if (!this.conn) return Promise.reject(new Error('No node to call'))
    return this.conn.client.call(method, params)
  }

  private onEvent(event: ApiEvent): void {
    this.store.update((s) => applyEvent(s, event))
    // A round closed: the global model changed, so its sample text is stale. Nodes say so with a
    // receipt, a validation loss point, or a progress phase of 'closed'.
    const closedRound =
      (event.event === 'progress' && event.data.phase === 'closed') ||
      (event.event === 'loss' && event.data.kind === 'validation') ||
      event.event === 'receipt'
    if (closedRound) void this.loadSample(event.data.project)
    if (event.event === 'projects') this.noticeRounds()
  }

  /** Fetch one resource into the store, recording a coded failure in its place. */
  private async load<R>(
    resource: Resource,
    fetch: () => Promise<R>,
    put: (s: AppState, value: R) => AppState,
  ): Promise<void> {
    try {
      const value = await fetch()
      this.store.update((s) => {
        const { [resource]: _gone, ...failures } = s.failures
        return { ...put(s, value), failures }
      })
    } catch (err) {
      this.store.update((s) => ({ ...s, failures: { ...s.failures, [resource]: toUiError(err) } }))
    }
  }

  async refreshAll(): Promise<void> {
    const generation = ++this.generation
    await Promise.all([
      this.load(
        'info',
        () => this.call('app.info', {}),
        (s, info) => ({ ...s, info }),
      ),
      this.load(
        'status',
        () => this.call('node.status', {}),
        (s, status) => ({ ...s, status }),
      ),
      this.load(
        'projects',
        () => this.call('projects.list', {}),
        (s, projects) => ({ ...s, projects }),
      ),
      this.load(
        'credits',
        () => this.call('credits.summary', {}),
        (s, credits) => ({ ...s, credits }),
      ),
      this.load('receipts', () => this.call('receipts.list', { limit: 500 }), withReceipts),
      this.load(
        'settings',
        () => this.call('settings.get', {}),
        (s, settings) => ({ ...s, settings }),
      ),
      this.load('logs', () => this.call('logs.tail', { limit: 500 }), withLogs),
      this.load('loss', () => this.call('metrics.loss', { limit: 2000 }), withLoss),
    ])
    if (generation !== this.generation) return
    this.store.update((s) => ({ ...s, loadedGeneration: s.loadedGeneration + 1 }))
    this.noticeRounds()
  }

  /** Asks for fresh sample text when an LM project's round moved on since we last looked. */
  private noticeRounds(): void {
    for (const p of this.store.get().projects ?? []) {
      if (!p.joined || !isLanguageModel(p)) continue
      if (this.roundSeen.get(p.key) === p.round) continue
      this.roundSeen.set(p.key, p.round)
      void this.loadSample(p.key)
    }
  }

  /**
   * Fetches sample text from the project's current global model. One request per project at a
   * time; asked again meanwhile (a round closed while the node was generating), it runs once more
   * afterwards, so the text never stays a round behind.
   */
  async loadSample(project: string): Promise<void> {
    const summary = this.store.get().projects?.find((p) => p.key === project)
    if (!summary || !isLanguageModel(summary)) return
    if (this.sampling.has(project)) {
      this.sampleAgain.add(project)
      return
    }
    this.sampling.add(project)
    try {
      do {
        this.sampleAgain.delete(project)
        try {
          const sample = await this.call('model.sample', { project, length: SAMPLE_LENGTH })
          this.store.update((s) => {
            const { sample: _gone, ...failures } = s.failures
            return { ...s, samples: { ...s.samples, [project]: sample }, failures }
          })
        } catch (err) {
          this.store.update((s) => ({ ...s, failures: { ...s.failures, sample: toUiError(err) } }))
        }
      } while (this.sampleAgain.has(project))
    } finally {
      this.sampling.delete(project)
    }
  }

  async refreshPreflight(): Promise<void> {
    await this.load(
      'preflight',
      () => this.call('node.preflight', {}),
      (s, preflight) => ({ ...s, preflight }),
    )
  }

  // -------------------------------------------------------------------------------------------
  // Actions: errors propagate to the caller (the control that started them shows them).

  async pause(mode: 'now' | 'after-round'): Promise<void> {
    const status = await this.call('node.pause', { mode })
    this.store.update((s) => ({ ...s, status }))
  }

  async resume(): Promise<void> {
    const status = await this.call('node.resume', {})
    this.store.update((s) => ({ ...s, status }))
  }

  async join(project: string, share?: number): Promise<string> {
    const joined = await this.call('projects.join', share ? { project, share } : { project })
    this.store.update((s) => withProject(s, joined))
    this.noticeRounds()
    return joined.key
  }

  async leave(project: string): Promise<void> {
    await this.call('projects.leave', { project })
    // The node pushes the new list; until then show the project as no longer joined.
    this.store.update((s) => {
      const p = s.projects?.find((x) => x.key === project)
      return p ? withProject(s, { ...p, joined: false }) : s
    })
  }

  async setProjectPaused(project: string, paused: boolean): Promise<void> {
    const updated = await this.call('projects.setPaused', { project, paused })
    this.store.update((s) => withProject(s, updated))
  }

  async setShare(project: string, share: number): Promise<void> {
    const updated = await this.call('projects.setShare', { project, share })
    this.store.update((s) => withProject(s, updated))
  }

  async setSettings(patch: SettingsPatch): Promise<void> {
    const settings = await this.call('settings.set', patch)
    this.store.update((s) => ({ ...s, settings }))
  }

  verifyLedger(project: string): Promise<MethodResult<'ledger.verify'>> {
    return this.call('ledger.verify', { project })
  }
}
