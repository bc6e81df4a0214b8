/**
 * The markdown summary of an evaluation run: for each experiment its table, its targets (met or
 * missed), its plots and its notes, headed by the commit and machine it ran on. Pure: the runner
 * decides where plots live (`plotLink`) and writes the text.
 */
import type { ExperimentResult, ExperimentTable } from './types.js'

export interface RunInfo {
  commit: string
  dirty: boolean
  quick: boolean
  startedAt: string
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string }
  seed: number
}

/** One experiment as the runner saw it: its result, or the error it failed with. */
export interface ExperimentOutcome {
  name: string
  seconds: number
  result?: ExperimentResult
  error?: string
  /** Where the outcome was read back from an earlier run's JSON: that run's commit and variant. */
  from?: { commit: string; quick: boolean; startedAt: string }
}

function cell(v: string | number | null): string {
  if (v === null) return '–'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v)
    if (Number.isInteger(v)) return v.toLocaleString('en-US')
    const abs = Math.abs(v)
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return v.toExponential(3)
    // Four significant digits, no trailing zeros, thousands separated.
    return Number(v.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 })
  }
  return v.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function markdownTable(table: ExperimentTable): string {
  const head = `| ${table.columns.map(cell).join(' | ')} |`
  const rule = `| ${table.columns.map(() => '---').join(' | ')} |`
  const body = table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)
  return [head, rule, ...body].join('\n')
}

function section(o: ExperimentOutcome, plotLink: (name: string, file: string) => string): string {
  const lines: string[] = []
  const r = o.result
  lines.push(`## ${r ? r.title : o.name}`, '')
  const origin = o.from
    ? `, run ${o.from.startedAt} at \`${o.from.commit.slice(0, 12)}\`${o.from.quick ? ' (quick)' : ''}`
    : ''
  lines.push(`\`${o.name}\`, ${o.seconds.toFixed(0)} s${origin}.`, '')
  if (!r) {
    lines.push(`**Failed:** ${o.error ?? 'unknown error'}`, '')
    return lines.join('\n')
  }
  lines.push(markdownTable(r.table), '')
  if (r.targets.length) {
    lines.push('| target | wanted | measured | |', '| --- | --- | --- | --- |')
    for (const t of r.targets)
      lines.push(
        `| ${cell(t.name)} | ${cell(t.target)} | ${cell(t.measured)} | ${t.met ? 'met' : '**missed**'} |`,
      )
    lines.push('')
  }
  for (const p of r.plots) lines.push(`![${p.title}](${plotLink(o.name, p.file)})`, '')
  if (r.notes.length) {
    for (const n of r.notes) lines.push(`- ${n}`)
    lines.push('')
  }
  return lines.join('\n')
}

export function summaryMarkdown(
  info: RunInfo,
  outcomes: ExperimentOutcome[],
  plotLink: (name: string, file: string) => string = (name, file) => `${name}/${file}.svg`,
): string {
  const m = info.machine
  const targets = outcomes.flatMap((o) => o.result?.targets ?? [])
  const met = targets.filter((t) => t.met).length
  const failed = outcomes.filter((o) => !o.result).map((o) => o.name)
  const head = [
    `# Tandem evaluation${info.quick ? ' (quick)' : ''}`,
    '',
    (outcomes.some((o) => o.from)
      ? `Summary rebuilt from earlier runs' JSON (each experiment names its run and commit), at commit \`${info.commit.slice(0, 12)}\`. `
      : `Commit \`${info.commit.slice(0, 12)}\`${info.dirty ? ' (with uncommitted changes)' : ''}, ` +
        `started ${info.startedAt}, seed ${info.seed}. `) +
      `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}.`,
    '',
    `Targets met: ${met} of ${targets.length}.` +
      (failed.length ? ` Experiments that failed: ${failed.join(', ')}.` : ''),
    '',
    '| experiment | targets met | seconds |',
    '| --- | --- | --- |',
    ...outcomes.map((o) => {
      const ts = o.result?.targets ?? []
      const status = o.result ? `${ts.filter((t) => t.met).length} / ${ts.length}` : 'failed'
      return `| [${o.name}](#${anchor(o.result?.title ?? o.name)}) | ${status} | ${o.seconds.toFixed(0)} |`
    }),
    '',
  ]
  return [...head, ...outcomes.map((o) => section(o, plotLink))].join('\n')
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-')
}
