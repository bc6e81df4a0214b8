/**
 * The measured backend speeds, kept in the node's state dir (`backend-speeds.json`) so `auto`
 * measures once per device, driver, Tandem version, model and batch rather than every round. The
 * key (a hash of all of those, engine/backends/measure-speeds.ts) decides a hit; any change is a
 * miss and a new measurement. Written atomically; validated on read: a corrupt file is set aside
 * and the speeds are measured again (losing it costs a few seconds, nothing else).
 */
import { join } from 'node:path'
import { z } from 'zod'
import { SpeedTable as SpeedTableSchema } from '../api/contract.js'
import { isTandemError } from '../api/errors.js'
import type { SpeedCache } from '../engine/backends/measure-speeds.js'
import { BACKENDS } from '../engine/backends/probe.js'
import type { SpeedTable } from '../engine/backends/speed.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'

export const SPEED_CACHE_FILE = 'backend-speeds.json'
/** Tables kept (most recent first): a few models × settings is plenty. */
export const MAX_TABLES = 16

const Name = z.enum(BACKENDS)
const StoredTable = SpeedTableSchema.extend({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  chosen: z.union([Name, z.literal('none')]),
  speeds: z.array(SpeedTableSchema.shape.speeds.element.extend({ name: Name })).max(16),
})
const SpeedCacheFile = z
  .object({ version: z.literal(1), tables: z.array(StoredTable).max(MAX_TABLES) })
  .strict()
type SpeedCacheFile = z.infer<typeof SpeedCacheFile>

export class FileSpeedCache implements SpeedCache {
  readonly path: string
  private loaded: Promise<SpeedCacheFile> | null = null
  private writing: Promise<void> = Promise.resolve()
  /** Why the file on disk was not used, when it was corrupt (for the log). */
  recovered: string | null = null

  constructor(stateDir: string) {
    this.path = join(stateDir, SPEED_CACHE_FILE)
  }

  async get(key: string): Promise<SpeedTable | null> {
    const file = await this.load()
    return file.tables.find((t) => t.key === key) ?? null
  }

  async put(table: SpeedTable): Promise<void> {
    const file = await this.load()
    const tables = [table, ...file.tables.filter((t) => t.key !== table.key)].slice(0, MAX_TABLES)
    const next: SpeedCacheFile = {
      version: 1,
      tables: tables.map((t) => ({ ...t, cached: false })),
    }
    this.loaded = Promise.resolve(next)
    this.writing = this.writing.then(() => writeJsonAtomic(this.path, next))
    await this.writing
  }

  /** Most recent table first (doctor and pre-flight show the latest). */
  async latest(): Promise<SpeedTable | null> {
    return (await this.load()).tables[0] ?? null
  }

  private load(): Promise<SpeedCacheFile> {
    this.loaded ??= readJsonFile(this.path, SpeedCacheFile).then(
      (file) => file ?? { version: 1 as const, tables: [] },
      (err: unknown) => {
        if (!isTandemError(err) || err.code !== 'STATE_CORRUPT') throw err
        this.recovered = `${err.message}; backend speeds will be measured again`
        return { version: 1 as const, tables: [] }
      },
    )
    return this.loaded
  }
}
