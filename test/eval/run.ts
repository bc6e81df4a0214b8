/**
 * `npm run eval [-- --quick] [--only a,b] [--out dir] [--publish]`: runs every experiment module in
 * test/eval/experiments/ (found by file name, one `run(options)` each, one after another in this
 * process), and writes for each `<out>/<name>/<name>.json` (its result, timing, commit and machine)
 * and one SVG per plot, then `<out>/summary.md`. `--publish` also writes docs/eval.md and copies the
 * JSON and plots to docs/eval/, which the README links to. A missed target is a measurement, not a
 * failure; an experiment that throws is reported as failed and makes the exit code 1.
 */
import { Command } from 'commander'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { writePlot } from './plot.js'
import { summaryMarkdown, type ExperimentOutcome, type RunInfo } from './summary.js'
import type { Experiment, ExperimentResult } from './types.js'

export interface EvalOptions {
  quick: boolean
  /** Experiment names to run; all found when empty. */
  only: string[]
  out: string
  /** Also write docs/eval.md and docs/eval/ under this repository root. */
  publishTo?: string
  dataDir: string | undefined
  seed: number
  experimentsDir: string
  log: (line: string) => void
  /** Run nothing: rebuild the summary (and publish) from the JSON already in `out`. */
  fromJson?: boolean
}

const HERE = new URL('.', import.meta.url).pathname

/** Experiment names in `dir`: every `<name>.ts` (not a test, not a declaration), sorted. */
export async function findExperiments(dir: string): Promise<string[]> {
  const files = existsSync(dir) ? await readdir(dir) : []
  return files
    .filter((f) => /^[a-z0-9-]+\.ts$/.test(f) && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => basename(f, '.ts'))
    .sort()
}

/** The experiments' default order: as the issue lists them; anything else after, by name. */
const ORDER = ['convergence', 'traffic', 'robustness', 'churn', 'utilization', 'scale']
const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length)

async function loadExperiment(dir: string, name: string): Promise<Experiment> {
  const mod = (await import(pathToFileURL(join(dir, `${name}.ts`)).href)) as { run?: unknown }
  if (typeof mod.run !== 'function')
    throw new Error(`test/eval/experiments/${name}.ts does not export run(options)`)
  return mod.run as Experiment
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return ''
  }
}

export function runInfo(quick: boolean, seed: number): RunInfo {
  const cpu = cpus()
  return {
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    quick,
    seed,
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      platform: `${process.platform}-${process.arch}`,
      node: process.versions.node,
    },
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, text)
  await rename(tmp, path)
}

function checkResult(name: string, r: unknown): ExperimentResult {
  const res = r as ExperimentResult
  if (!res || typeof res !== 'object' || !res.table || !Array.isArray(res.plots))
    throw new Error(`experiment ${name} returned no ExperimentResult`)
  return res
}

export async function runEval(opts: EvalOptions): Promise<ExperimentOutcome[]> {
  const found = await findExperiments(opts.experimentsDir)
  const unknown = opts.only.filter((n) => !found.includes(n))
  if (unknown.length)
    throw new Error(`no experiment named ${unknown.join(', ')} (found: ${found.join(', ')})`)
  const names = (opts.only.length ? opts.only : found).sort((a, b) => rank(a) - rank(b))
  const info = runInfo(opts.quick, opts.seed)
  await mkdir(opts.out, { recursive: true })
  const outcomes: ExperimentOutcome[] = []
  for (const name of names) {
    if (opts.fromJson) {
      const saved = await readSaved(opts.out, name)
      if (saved) {
        for (const plot of saved.result?.plots ?? []) await writePlot(join(opts.out, name), plot)
        outcomes.push(saved)
      } else opts.log(`[${name}] no ${name}.json in ${opts.out}: left out`)
      continue
    }
    const dir = join(opts.out, name)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    const log = (line: string) => opts.log(`[${name}] ${line}`)
    log(`start${opts.quick ? ' (quick)' : ''}`)
    const t0 = performance.now()
    let outcome: ExperimentOutcome
    try {
      const run = await loadExperiment(opts.experimentsDir, name)
      const result = checkResult(
        name,
        await run({ quick: opts.quick, outDir: dir, dataDir: opts.dataDir, log, seed: opts.seed }),
      )
      for (const plot of result.plots) await writePlot(dir, plot)
      outcome = { name, seconds: (performance.now() - t0) / 1000, result }
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
      log(`FAILED: ${message}`)
      outcome = { name, seconds: (performance.now() - t0) / 1000, error: message.split('\n')[0] }
    }
    outcomes.push(outcome)
    await writeAtomic(
      join(dir, `${name}.json`),
      JSON.stringify(
        { ...info, seconds: outcome.seconds, error: outcome.error, ...outcome.result },
        null,
        2,
      ) + '\n',
    )
    const met = outcome.result?.targets.filter((t) => t.met).length ?? 0
    log(
      `done in ${outcome.seconds.toFixed(0)} s` +
        (outcome.result ? `, targets met ${met} of ${outcome.result.targets.length}` : ''),
    )
  }
  await writeAtomic(join(opts.out, 'summary.md'), summaryMarkdown(info, outcomes))
  if (opts.publishTo) await publish(opts, info, outcomes)
  return outcomes
}

/** An experiment's outcome from the JSON an earlier run wrote. */
async function readSaved(out: string, name: string): Promise<ExperimentOutcome | null> {
  const file = join(out, name, `${name}.json`)
  if (!existsSync(file)) return null
  const j = JSON.parse(await readFile(file, 'utf8')) as Partial<ExperimentResult> &
    Partial<RunInfo> & { seconds: number; error?: string }
  const from = {
    commit: j.commit ?? 'unknown',
    quick: j.quick ?? false,
    startedAt: j.startedAt ?? '',
  }
  if (j.error || !j.table) return { name, seconds: j.seconds, error: j.error ?? 'no result', from }
  const result: ExperimentResult = {
    name,
    title: j.title ?? name,
    table: j.table,
    targets: j.targets ?? [],
    plots: j.plots ?? [],
    details: j.details ?? {},
    notes: j.notes ?? [],
  }
  return { name, seconds: j.seconds, result, from }
}

/** docs/eval.md plus docs/eval/<name>/ (JSON and SVGs) from this run. */
async function publish(opts: EvalOptions, info: RunInfo, outcomes: ExperimentOutcome[]) {
  const root = opts.publishTo as string
  const docs = join(root, 'docs', 'eval')
  for (const o of outcomes) {
    const target = join(docs, o.name)
    await rm(target, { recursive: true, force: true })
    await mkdir(target, { recursive: true })
    const from = join(opts.out, o.name)
    for (const f of await readdir(from)) {
      if (f.endsWith('.svg')) await copyFile(join(from, f), join(target, f))
      // The repository's format check covers docs/: write what prettier would.
      if (f.endsWith('.json'))
        await writeAtomic(
          join(target, f),
          await formatted(join(target, f), await readFile(join(from, f), 'utf8')),
        )
    }
  }
  const text = summaryMarkdown(info, outcomes, (name, file) => `eval/${name}/${file}.svg`)
  const path = join(root, 'docs', 'eval.md')
  await writeAtomic(path, await formatted(path, text))
}

/** `text` as prettier formats a file at `path` (with the repository's configuration). */
async function formatted(path: string, text: string): Promise<string> {
  const prettier = await import('prettier')
  const config = (await prettier.resolveConfig(path)) ?? {}
  return prettier.format(text, { ...config, filepath: path })
}

async function main() {
  const program = new Command('eval')
    .description('Run the evaluation experiments and write JSON, SVG plots and a markdown summary')
    .option('--quick', 'the reduced variants (minutes on 2 cores)', false)
    .option('--only <names>', 'comma-separated experiment names', '')
    .option('--out <dir>', 'output folder', 'test-results/eval')
    .option('--publish', 'also write docs/eval.md and docs/eval/', false)
    .option(
      '--data-dir <dir>',
      'shared data folder (tinyshakespeare.txt, …); default ../shared/data',
    )
    .option('--seed <n>', 'seed for everything random', '1')
    .option('--from-json', 'run nothing: rebuild the summary from the JSON already in --out', false)
    .parse()
  const o = program.opts<{
    quick: boolean
    only: string
    out: string
    publish: boolean
    dataDir?: string
    seed: string
    fromJson: boolean
  }>()
  const root = resolve(HERE, '..', '..')
  // The shared data folder sits next to the checkout (../shared), or next to its parent (worktrees).
  const dataDir =
    o.dataDir ??
    [join(root, '..', 'shared', 'data'), join(root, '..', '..', 'shared', 'data')].find((d) =>
      existsSync(d),
    ) ??
    ''
  const outcomes = await runEval({
    quick: o.quick,
    only: o.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    out: resolve(o.out),
    ...(o.publish ? { publishTo: root } : {}),
    dataDir: dataDir && existsSync(dataDir) ? resolve(dataDir) : undefined,
    seed: Number(o.seed),
    experimentsDir: join(HERE, 'experiments'),
    log: (line) => console.log(line),
    fromJson: o.fromJson,
  })
  console.log(`summary: ${join(resolve(o.out), 'summary.md')}`)
  // Swarms, timers and tfjs keep the loop alive after the experiments have closed what they own.
  process.exit(outcomes.every((x) => x.result) ? 0 : 1)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(2)
  })
}
