/**
 * `tandem doctor`: which training backend `auto` would choose on this machine and why, without a
 * running node. It measures every usable backend on a model (the reference MLP, or `--spec`) at a
 * batch size, through the same engine and the same cache (the node's state dir) a node uses, and
 * prints the table: samples/s of each backend, which are software GPU adapters, and why the chosen
 * one won. A cached table is shown as such; `--fresh` measures again.
 */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TandemError } from '../../api/errors.js'
import { REFERENCE_BATCH, referenceSpec } from '../../engine/backends/reference-workload.js'
import {
  BACKENDS,
  probeBackend,
  type BackendName,
  type BackendStatus,
} from '../../engine/backends/probe.js'
import { TrainingEngine } from '../../engine/engine.js'
import { parseSpecJson } from '../../engine/spec/parse.js'
import { FileSpeedCache } from '../../node/backend-speed-cache.js'
import { defaultSettings } from '../../node/settings.js'
import { appPaths } from '../../util/app-paths.js'
import type { CliIO } from '../io.js'
import { formatSpeedTable } from './speed-table.js'

interface DoctorFlags {
  home?: string
  spec?: string
  batch?: string
  threads?: string
  backends?: string
  fresh?: boolean
  json?: boolean
}

function whole(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new TandemError('BAD_ARGUMENT', `--${name} must be a whole number from 1 to ${max}`)
  return n
}

function backendList(value: string | undefined): BackendName[] | null {
  if (value === undefined) return null
  const names = value.split(',').map((s) => s.trim())
  for (const n of names)
    if (!(BACKENDS as readonly string[]).includes(n))
      throw new TandemError('BAD_ARGUMENT', `--backends takes names from ${BACKENDS.join(', ')}`)
  return names as BackendName[]
}

/** The node's CPU thread setting when it has one (read only; a missing or odd file: the default). */
async function settingsThreads(configDir: string): Promise<number> {
  try {
    const raw = JSON.parse(await readFile(join(configDir, 'settings.json'), 'utf8')) as {
      maxThreads?: unknown
    }
    const n = raw.maxThreads
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 256) return n
  } catch {
    // no settings yet: the default below
  }
  return defaultSettings().maxThreads
}

export function registerDoctor(program: Command, io: CliIO): void {
  program
    .command('doctor')
    .description(
      'measure every training backend here and show which one auto would choose, and why',
    )
    .option('--home <dir>', 'state directory (default: the app data dirs, or TANDEM_HOME)')
    .option('--spec <file>', 'measure this model spec (JSON) instead of the reference MLP')
    .option('--batch <n>', `batch size (default ${REFERENCE_BATCH})`)
    .option('--threads <n>', 'CPU workers (default: the node setting maxThreads)')
    .option('--backends <list>', `only these, comma-separated (${BACKENDS.join(', ')})`)
    .option('--fresh', 'measure again even when a cached table matches')
    .option('--json', 'print the table as one JSON object')
    .action(async (flags: DoctorFlags) => {
      const paths = appPaths(flags.home ? { TANDEM_HOME: flags.home } : process.env)
      const spec = flags.spec ? parseSpecJson(await readFile(flags.spec, 'utf8')) : referenceSpec()
      const batch = whole(flags.batch, 'batch', 65_536) ?? REFERENCE_BATCH
      const threads = whole(flags.threads, 'threads', 256) ?? (await settingsThreads(paths.config))
      const only = backendList(flags.backends)
      const cache = new FileSpeedCache(paths.data)
      const engine = new TrainingEngine({
        maxThreads: threads,
        ...(flags.fresh ? {} : { speedCache: cache }),
        probe: async (name): Promise<BackendStatus> =>
          !only || only.includes(name)
            ? probeBackend(name)
            : { name, available: false, detail: 'not measured (--backends)' },
      })
      const table = await engine.measure(spec, batch)
      // --fresh measures without reading the cache, and still records what it measured.
      if (flags.fresh) await cache.put(table).catch(() => undefined)
      if (cache.recovered) io.err(`tandem: ${cache.recovered}\n`)
      if (flags.json) io.out(`${JSON.stringify(table)}\n`)
      else io.out(formatSpeedTable(table))
    })
}
