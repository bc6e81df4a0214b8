/**
 * Settings file versions and the steps between them. A stored file is brought to the current
 * version one step at a time (v0 → v1 → …), then checked against the contract. A step never
 * rejects an old file: a value it cannot carry over falls back to the default, and says so in
 * `notes`. Adding a version: bump SETTINGS_VERSION in the contract, append one step here, and
 * add a test with a file of the old shape.
 *
 * v0 is the pre-release format (0.0.x builds wrote it, without a `version` field):
 *   threads        CPU threads                           → maxThreads
 *   throttle       percent of time to compute, 1–100     → dutyCycle (throttle / 100, min 0.05)
 *   idleOnly       train only while the user is away     → runWhenIdleOnly
 *   idleMinutes                                           → idleMinutes
 *   battery        true = keep running on battery        → pauseOnBattery (negated)
 *   gpu                                                   → useGpu
 *   upload, download  KiB/s, 0 = unlimited                → uploadKiBps, downloadKiBps
 *   diskMB         per project                            → diskCapMiB
 * Anything else in a v0 file is dropped (listed in notes).
 */
import { z } from 'zod'
import { SETTINGS_VERSION, Settings } from '../api/contract.js'
import { TandemError } from '../api/errors.js'

type Raw = Record<string, unknown>

interface Migration {
  /** The version this step reads; it writes `from + 1`. */
  from: number
  up(old: Raw, defaults: Settings, notes: string[]): Raw
}

const v0Fields = {
  threads: z.number().int().min(1).max(256),
  throttle: z.number().min(1).max(100),
  idleOnly: z.boolean(),
  idleMinutes: z.number().int().min(1).max(240),
  battery: z.boolean(),
  gpu: z.boolean(),
  upload: z.number().int().min(0).max(10_000_000),
  download: z.number().int().min(0).max(10_000_000),
  diskMB: z.number().int().min(64).max(10_000_000),
}

const MIGRATIONS: Migration[] = [
  {
    from: 0,
    up(old, defaults, notes) {
      const { version: _, ...v1 } = defaults
      const out: Raw = { ...v1, version: 1 }
      const take = <K extends keyof typeof v0Fields>(
        key: K,
        apply: (value: z.infer<(typeof v0Fields)[K]>) => void,
      ) => {
        if (!(key in old)) return
        const parsed = v0Fields[key].safeParse(old[key])
        if (parsed.success) apply(parsed.data as z.infer<(typeof v0Fields)[K]>)
        else notes.push(`${key}: ${JSON.stringify(old[key])} is not valid, using the default`)
      }
      take('threads', (v) => (out['maxThreads'] = v))
      take('throttle', (v) => (out['dutyCycle'] = Math.max(0.05, v / 100)))
      take('idleOnly', (v) => (out['runWhenIdleOnly'] = v))
      take('idleMinutes', (v) => (out['idleMinutes'] = v))
      take('battery', (v) => (out['pauseOnBattery'] = !v))
      take('gpu', (v) => (out['useGpu'] = v))
      take('upload', (v) => (out['uploadKiBps'] = v))
      take('download', (v) => (out['downloadKiBps'] = v))
      take('diskMB', (v) => (out['diskCapMiB'] = v))
      const dropped = Object.keys(old).filter((k) => !(k in v0Fields))
      if (dropped.length) notes.push(`dropped unknown v0 keys: ${dropped.join(', ')}`)
      return out
    },
  },
]

export interface MigrationResult {
  settings: Settings
  /** The version the input had. */
  from: number
  /** What could not be carried over, for the log. */
  notes: string[]
}

/** The stored format's version: a missing `version` is the pre-release format, v0. */
function versionOf(raw: Raw): number {
  if (!('version' in raw)) return 0
  const v = raw['version']
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new TandemError('STATE_CORRUPT', `settings version ${JSON.stringify(v)} is not a version`)
  }
  return v
}

/**
 * Brings a stored settings object of any known version to the current one. Throws STATE_CORRUPT
 * for something that is not a settings object, a version newer than this build understands (a
 * downgrade: guessing would drop the newer build's fields), or a current-version file that fails
 * the schema.
 */
export function migrateSettings(raw: unknown, defaults: Settings): MigrationResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TandemError('STATE_CORRUPT', 'settings file does not hold an object')
  }
  const from = versionOf(raw as Raw)
  if (from > SETTINGS_VERSION) {
    throw new TandemError(
      'STATE_CORRUPT',
      `settings version ${from} was written by a newer Tandem (this one reads up to ${SETTINGS_VERSION})`,
    )
  }
  const notes: string[] = []
  let current = raw as Raw
  for (let v = from; v < SETTINGS_VERSION; v++) {
    const step = MIGRATIONS.find((m) => m.from === v)
    if (!step) throw new TandemError('INTERNAL', `no settings migration from version ${v}`)
    current = step.up(current, defaults, notes)
  }
  const checked = Settings.safeParse(current)
  if (!checked.success) {
    const issue = checked.error.issues[0]!
    const at = issue.path.length ? `${issue.path.map(String).join('.')}: ` : ''
    throw new TandemError('STATE_CORRUPT', `settings: ${at}${issue.message}`)
  }
  return { settings: checked.data, from, notes }
}
