/**
 * Human-readable output of the daemon client commands (`--json` prints the contract's values
 * as they are instead). Pure functions of API results, so they are tested without a daemon.
 */
import type {
  CreditsSummary,
  NodeStatus,
  ProjectSummary,
  ReceiptView,
  Settings,
  SettingsPatch,
} from '../../api/contract.js'
import { TandemError } from '../../api/errors.js'
import { parseSettingsPatch } from '../../node/settings.js'
import { formatSpeedTable } from './speed-table.js'

export function shortKey(hex: string): string {
  return `${hex.slice(0, 8)}…`
}

export function duration(sec: number): string {
  if (sec < 60) return `${Math.round(sec)} s`
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`
  return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`
}

function num(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n')
}

export function formatStatus(s: NodeStatus): string {
  const lines = [`node ${s.displayId}: ${s.activity} (${s.reason})`]
  if (s.pauseAfterRound) lines.push('will pause when the current round ends')
  const backend = s.backend ? `${s.backend.chosen} on ${s.backend.device}` : 'not chosen yet'
  lines.push(`peers ${s.peers}, backend ${backend}`)
  if (s.backend?.measured) lines.push(formatSpeedTable(s.backend.measured, '  ').trimEnd())
  const p = s.progress
  if (p) {
    const eta = p.etaSec === null ? '' : `, about ${duration(p.etaSec)} left`
    const loss = p.loss === null ? '' : `, loss ${p.loss.toFixed(4)}`
    lines.push(
      `project ${shortKey(p.project)} round ${p.round}: ${p.phase} step ${p.step}/${p.steps}` +
        `${eta}, ${num(p.samplesPerSec)} samples/s${loss}`,
    )
  }
  lines.push(`up since ${new Date(s.startedAt).toISOString()}`)
  return `${lines.join('\n')}\n`
}

export function formatSettings(s: Settings, only?: string): string {
  const entries = Object.entries(s).filter(([k]) => k !== 'version')
  const shown = only === undefined ? entries : entries.filter(([k]) => k === only)
  if (only !== undefined && shown.length === 0) {
    throw new TandemError('SETTINGS_INVALID', `unknown setting "${only}"`)
  }
  if (only !== undefined) return `${JSON.stringify(shown[0]![1])}\n`
  return table(shown.map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]))
}

/**
 * `key=value` words to a checked settings patch. Values are JSON where they parse as JSON
 * (numbers, true/false, objects for `schedule`), otherwise plain strings (`backend=wasm`).
 */
export function parseAssignments(words: string[]): SettingsPatch {
  const patch: Record<string, unknown> = {}
  for (const word of words) {
    const eq = word.indexOf('=')
    if (eq <= 0) throw new TandemError('BAD_ARGUMENT', `"${word}" is not key=value`)
    const key = word.slice(0, eq)
    const text = word.slice(eq + 1)
    let value: unknown = text
    try {
      value = JSON.parse(text)
    } catch {
      // a plain string
    }
    patch[key] = value
  }
  return parseSettingsPatch(patch)
}

export function formatCredits(c: CreditsSummary): string {
  let out = `total ${num(c.total, 2)} credits, recent average ${num(c.rac, 2)} a day\n`
  if (c.projects.length === 0) return `${out}no credited projects yet\n`
  out += table([
    ['project', 'name', 'credits', 'per day', 'reputation', 'accepted', 'rejected'],
    ...c.projects.map((p) => [
      shortKey(p.project),
      p.name,
      num(p.credits, 2),
      num(p.rac, 2),
      p.reputation.toFixed(2),
      String(p.accepted),
      String(p.rejected),
    ]),
  ])
  return out
}

export function formatReceipts(list: ReceiptView[]): string {
  if (list.length === 0) return 'no receipts yet\n'
  return table([
    ['closed', 'project', 'round', 'result', 'samples', 'quality', 'credits'],
    ...list.map((r) => [
      new Date(r.closedAt).toISOString().replace('T', ' ').slice(0, 19),
      r.projectName,
      String(r.round),
      r.accepted ? 'accepted' : `rejected: ${r.reason ?? 'no reason given'}`,
      num(r.samples),
      r.quality.toFixed(2),
      num(r.credits, 2),
    ]),
  ])
}

export function formatProjects(list: ProjectSummary[]): string {
  if (list.length === 0) return 'no projects known yet (join one with `tandem join <key>`)\n'
  const state = (p: ProjectSummary) =>
    [p.hosting ? 'hosting' : '', p.joined ? 'joined' : 'seen', p.paused ? 'paused' : '']
      .filter(Boolean)
      .join(', ')
  const charters = list.map((p) => `${shortKey(p.key)}  ${charterLine(p)}`).join('\n')
  return `${table([
    ['key', 'name', 'state', 'share', 'round', 'contributors', 'credits'],
    ...list.map((p) => [
      shortKey(p.key),
      p.name,
      state(p),
      String(p.share),
      String(p.round),
      String(p.contributors),
      num(p.credits, 2),
    ]),
  ])}\ncharters:\n${charters}\n`
}

/** A project's charter in one line ("no charter" for projects made before charters). */
function charterLine(p: ProjectSummary): string {
  const c = p.charter
  if (!c) return 'no charter'
  const purpose = c.purpose.length > 60 ? `${c.purpose.slice(0, 60)}…` : c.purpose
  return `${purpose} · weights ${c.weights.licence} (${c.weights.download}) · host ${c.host.name}`
}

export function formatJoined(p: ProjectSummary): string {
  return `joined ${p.name} (${p.key}), share ${p.share}\n`
}
