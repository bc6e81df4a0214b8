/**
 * Everything the UI knows about its node, and the pure rules that fold fetched results and pushed
 * events into it. No I/O here: sync.ts does the fetching and feeds these functions.
 */
import type {
  ApiEvent,
  AppInfo,
  CreditsSummary,
  LogEntry,
  LossPoint,
  NodeStatus,
  Preflight,
  ProjectSummary,
  ReceiptView,
  Settings,
} from '../../../core/api/contract'
import type { LinkState } from '../connection'
import type { UiError } from '../errors'

/** What the initial fetches load; a failure of one is shown where that data would be. */
export type Resource =
  | 'info'
  | 'status'
  | 'preflight'
  | 'projects'
  | 'credits'
  | 'receipts'
  | 'settings'
  | 'logs'
  | 'loss'

export interface ModelSample {
  round: number
  text: string
}

export interface AppState {
  /** null: this page has no node to talk to (no bridge, no token). */
  link: LinkState | null
  /** Bumped each time the link (re)opens and the initial fetches finished. */
  loadedGeneration: number
  info: AppInfo | null
  status: NodeStatus | null
  preflight: Preflight | null
  projects: ProjectSummary[] | null
  credits: CreditsSummary | null
  receipts: ReceiptView[] | null
  settings: Settings | null
  /** Oldest first, capped. */
  logs: LogEntry[]
  /** Oldest first, capped. */
  loss: LossPoint[]
  samples: Readonly<Record<string, ModelSample>>
  failures: Readonly<Partial<Record<Resource | 'sample', UiError>>>
  /** Bumped on each `governance` event: governance views fetch again. */
  governanceSeq: number
}

export const MAX_LOGS = 2000
export const MAX_LOSS_POINTS = 5000
export const MAX_RECEIPTS = 2000

export function initialState(link: LinkState | null): AppState {
  return {
    link,
    loadedGeneration: 0,
    info: null,
    status: null,
    preflight: null,
    projects: null,
    credits: null,
    receipts: null,
    settings: null,
    logs: [],
    loss: [],
    samples: {},
    failures: {},
    governanceSeq: 0,
  }
}

const byTime = <T extends { t: number }>(a: T, b: T) => a.t - b.t
const newestReceiptFirst = (a: ReceiptView, b: ReceiptView) =>
  b.closedAt - a.closedAt || b.round - a.round

export function withReceipts(state: AppState, receipts: ReceiptView[]): AppState {
  return { ...state, receipts: [...receipts].sort(newestReceiptFirst).slice(0, MAX_RECEIPTS) }
}

/**
 * A fetched history, plus whatever pushed events already brought that is newer than its newest
 * entry: events that arrive while the fetch is on its way are not lost when its answer lands.
 */
function mergeFetched<T extends { t: number }>(held: T[], fetched: T[], cap: number): T[] {
  const sorted = [...fetched].sort(byTime)
  const newest = sorted.at(-1)?.t ?? -Infinity
  return [...sorted, ...held.filter((x) => x.t > newest)].slice(-cap)
}

export function withLogs(state: AppState, logs: LogEntry[]): AppState {
  return { ...state, logs: mergeFetched(state.logs, logs, MAX_LOGS) }
}

export function withLoss(state: AppState, loss: LossPoint[]): AppState {
  return { ...state, loss: mergeFetched(state.loss, loss, MAX_LOSS_POINTS) }
}

function appendCapped<T>(list: T[], item: T, cap: number): T[] {
  const next = list.length >= cap ? list.slice(list.length - cap + 1) : list.slice()
  next.push(item)
  return next
}

function sameLossPoint(a: LossPoint | undefined, b: LossPoint): boolean {
  return (
    a !== undefined &&
    a.t === b.t &&
    a.project === b.project &&
    a.step === b.step &&
    a.round === b.round &&
    a.kind === b.kind
  )
}

export function applyEvent(state: AppState, event: ApiEvent): AppState {
  switch (event.event) {
    case 'status':
      return { ...state, status: event.data }
    case 'progress':
      return state.status ? { ...state, status: { ...state.status, progress: event.data } } : state
    case 'loss': {
      if (sameLossPoint(state.loss.at(-1), event.data)) return state
      const last = state.loss.at(-1)
      if (last && last.t > event.data.t)
        return { ...state, loss: [...state.loss, event.data].sort(byTime).slice(-MAX_LOSS_POINTS) }
      return { ...state, loss: appendCapped(state.loss, event.data, MAX_LOSS_POINTS) }
    }
    case 'receipt': {
      const r = event.data
      const others = (state.receipts ?? []).filter(
        (x) => !(x.project === r.project && x.round === r.round),
      )
      return withReceipts(state, [r, ...others])
    }
    case 'credits':
      return { ...state, credits: event.data }
    case 'projects':
      return { ...state, projects: event.data }
    case 'settings':
      return { ...state, settings: event.data }
    case 'log':
      return { ...state, logs: appendCapped(state.logs, event.data, MAX_LOGS) }
    case 'governance':
    case 'flag':
      return { ...state, governanceSeq: state.governanceSeq + 1 }
  }
}

/** A project replaced in the list (after join / setShare / setPaused), or added if new. */
export function withProject(state: AppState, project: ProjectSummary): AppState {
  const list = state.projects ?? []
  const at = list.findIndex((p) => p.key === project.key)
  const next = at >= 0 ? list.map((p, i) => (i === at ? project : p)) : [...list, project]
  return { ...state, projects: next }
}

export function joinedProjects(projects: ProjectSummary[] | null): ProjectSummary[] {
  return (projects ?? []).filter((p) => p.joined)
}

/** The project the dashboard is about: the one training now, else the first joined one. */
export function currentProject(state: AppState): ProjectSummary | null {
  const key = state.status?.progress?.project
  const joined = joinedProjects(state.projects)
  return joined.find((p) => p.key === key) ?? joined.find((p) => !p.paused) ?? joined[0] ?? null
}

/** Projects whose model can write text (model.sample answers only for these). */
export function isLanguageModel(project: ProjectSummary): boolean {
  return /transformer|\blm\b|language/i.test(project.model.kind)
}
