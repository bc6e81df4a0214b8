/**
 * The contributor's preferences: defaults, the versioned file in appPaths().config/settings.json,
 * migration of older versions, validated updates, and a 'change' event so each preference takes
 * effect without a restart (the engine re-reads threads and duty cycle, the rate limiter its caps,
 * the policy its schedule).
 *
 * The schema is the API contract's (`Settings`, `SettingsPatch`): what the UI sends, what the node
 * stores and what it reports are one shape. A file from an older version is migrated, never
 * rejected (the original is kept beside it as `settings.json.v<N>`). A file that is not valid is moved
 * aside by readJsonFile and the node starts from defaults: `recovered` says so, for the log and
 * the UI, instead of a node that refuses to start over a hand-edited preference.
 */
import { EventEmitter } from 'node:events'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { SETTINGS_VERSION, Settings, SettingsPatch } from '../api/contract.js'
import { TandemError, isTandemError } from '../api/errors.js'
import { appPaths } from '../util/app-paths.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'
import { migrateSettings } from './settings-migrations.js'

export { migrateSettings } from './settings-migrations.js'

/**
 * Defaults chosen for a machine whose owner is using it:
 * - maxThreads: half the logical cores (at least 1). Logical cores are usually hyper-threads, so
 *   this is about one thread per physical core and leaves the other half to the person at the
 *   keyboard; training throughput on these machines stops growing well before all cores anyway.
 * - dutyCycle 0.8: compute 80% of the time, rest 20%. A steady 100% load keeps fans at full speed
 *   and laptops hot; short rests let the machine cool and keep it responsive, for 20% of the
 *   throughput. Dedicated rigs set it to 1.
 * - idleMinutes 3: BOINC's "in use" threshold, which its users know.
 * - pauseOnBattery: a contributor's battery is not ours to drain.
 * - caps 0 (unlimited), diskCapMiB 4096 per project, schedule off, not started at login: nothing
 *   surprising happens until the person asks for it.
 */
export function defaultSettings(cores: number = availableParallelism()): Settings {
  return {
    version: SETTINGS_VERSION,
    runWhenIdleOnly: false,
    idleMinutes: 3,
    pauseOnBattery: true,
    maxThreads: Math.max(1, Math.min(256, Math.floor(cores / 2))),
    useGpu: true,
    backend: 'auto',
    dutyCycle: 0.8,
    schedule: { enabled: false, windows: [] },
    uploadKiBps: 0,
    downloadKiBps: 0,
    diskCapMiB: 4096,
    startAtLogin: false,
  }
}

export type SettingKey = keyof SettingsPatch

export interface SettingsEvents {
  /** After a change was written: the new settings and the keys whose values changed. */
  change: [Settings, SettingKey[]]
}

export interface SettingsStoreOptions {
  /** Directory of settings.json (default appPaths().config). */
  dir?: string
  /** Logical cores, for the maxThreads default (default: this machine's). */
  cores?: number
}

/**
 * Checks a patch against the contract. Throws SETTINGS_INVALID naming the first bad field; values
 * are returned parsed (the same object shape, nothing coerced).
 */
export function parseSettingsPatch(patch: unknown): SettingsPatch {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new TandemError('SETTINGS_INVALID', 'settings patch must be an object')
  }
  const parsed = SettingsPatch.safeParse(patch)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys
    if (keys.includes('version')) {
      throw new TandemError('SETTINGS_INVALID', 'version: not settable (it is the file format)')
    }
    throw new TandemError('SETTINGS_INVALID', `unknown setting ${keys.map((k) => `"${k}"`)[0]}`)
  }
  const field = issue.path.map(String).join('.') || '(patch)'
  throw new TandemError('SETTINGS_INVALID', `${field}: ${issue.message}`)
}

export class SettingsStore extends EventEmitter<SettingsEvents> {
  readonly path: string
  /** Why the stored file was not used (it was moved aside), or null. */
  readonly recovered: TandemError | null
  /** The version the file was migrated from on open, or null when none was needed. */
  readonly migratedFrom: number | null
  /** What a migration could not carry over (for the log); empty when none ran. */
  readonly migrationNotes: readonly string[]
  private current: Settings
  /** Updates run one after another, so the file always ends with the latest value. */
  private queue: Promise<void> = Promise.resolve()

  private constructor(
    path: string,
    current: Settings,
    recovered: TandemError | null,
    migratedFrom: number | null,
    migrationNotes: string[] = [],
  ) {
    super()
    this.migrationNotes = migrationNotes
    this.path = path
    this.current = freeze(current)
    this.recovered = recovered
    this.migratedFrom = migratedFrom
  }

  static async open(opts: SettingsStoreOptions = {}): Promise<SettingsStore> {
    const dir = opts.dir ?? appPaths().config
    const path = join(dir, 'settings.json')
    const defaults = defaultSettings(opts.cores)
    let raw: unknown = null
    let recovered: TandemError | null = null
    try {
      // Parse in two steps: JSON here, versions below, so a migration sees the original object.
      raw = await readJsonFile(path, (value) => {
        migrateSettings(value, defaults) // throws on an unreadable version: quarantined as corrupt
        return value
      })
    } catch (err) {
      if (!isTandemError(err) || err.code !== 'STATE_CORRUPT') throw err
      recovered = err
    }
    if (raw === null) {
      const store = new SettingsStore(path, defaults, recovered, null)
      await store.write(defaults)
      return store
    }
    const { settings, from, notes } = migrateSettings(raw, defaults)
    const migrated = from === SETTINGS_VERSION ? null : from
    const store = new SettingsStore(path, settings, null, migrated, notes)
    if (from !== SETTINGS_VERSION) {
      // Keep the original: a migration is one-way, and a person may want the old file back.
      await writeJsonAtomic(`${path}.v${from}`, raw)
      await store.write(settings)
    }
    return store
  }

  get(): Settings {
    return this.current
  }

  /**
   * Validates and applies a partial update, writes it, then emits 'change' with the keys that
   * changed. A patch that changes nothing writes nothing and emits nothing.
   */
  async update(patch: unknown): Promise<Settings> {
    const checked = parseSettingsPatch(patch)
    // Read-modify-write as one queued step: two concurrent patches of different keys both land.
    return this.enqueue(async () => {
      const next = Settings.parse({ ...this.current, ...checked })
      const changed = (Object.keys(checked) as SettingKey[]).filter(
        (key) => JSON.stringify(this.current[key]) !== JSON.stringify(next[key]),
      )
      if (changed.length === 0) return this.current
      await writeJsonAtomic(this.path, next)
      this.current = freeze(next)
      this.emit('change', this.current, changed)
      return this.current
    })
  }

  /** Back to the defaults (same machine), as one change. */
  async reset(cores?: number): Promise<Settings> {
    const { version: _, ...defaults } = defaultSettings(cores)
    return this.update(defaults)
  }

  /** Settles once every update started so far has reached the disk (or failed). */
  async flushed(): Promise<void> {
    await this.queue
  }

  private write(value: Settings): Promise<void> {
    return this.enqueue(() => writeJsonAtomic(this.path, value))
  }

  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const done = this.queue.then(step)
    this.queue = done.then(
      () => {},
      () => {},
    )
    return done
  }
}

function freeze(settings: Settings): Settings {
  Object.freeze(settings.schedule.windows)
  for (const w of settings.schedule.windows) Object.freeze(w)
  Object.freeze(settings.schedule)
  return Object.freeze(settings)
}
