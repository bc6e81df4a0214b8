/**
 * The node's datasets: one corestore in the app data dir (shared with the rest of the node when it
 * passes its own), plus a small local index of which cores are datasets. The index is what `dataset
 * list` shows; an import is recorded as "importing" before its core is written and "ready" after,
 * so an import killed half-way is found and deleted the next time the store opens.
 */
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import { appPaths } from '../util/app-paths.js'
import { Dataset, type ReadOptions } from './dataset.js'
import { encodeHeader, type DatasetHeader } from './header.js'

const entrySchema = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string(),
  /** origin: imported here (this node wrote it); replica: opened by key from peers. */
  role: z.enum(['origin', 'replica']),
  state: z.enum(['importing', 'ready']),
  addedAt: z.string(),
})
const indexSchema = z.object({ version: z.literal(1), datasets: z.array(entrySchema) })
export type DatasetEntry = z.infer<typeof entrySchema>

export interface DatasetStoreOptions {
  /** The node's data dir; default appPaths().data (TANDEM_HOME/data). */
  dataDir?: string
  /** A corestore the node already has open; otherwise one is opened at <dataDir>/corestore. */
  corestore?: Corestore
}

export function parseDatasetKey(key: string): Buffer {
  const hex = key.trim().toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TandemError('BAD_ARGUMENT', `"${key}" is not a dataset key (64 hex characters)`)
  }
  return Buffer.from(hex, 'hex')
}

export class DatasetStore {
  private entries: DatasetEntry[] = []

  private constructor(
    readonly corestore: Corestore,
    readonly dataDir: string,
    private readonly ownsStore: boolean,
  ) {}

  static async open(opts: DatasetStoreOptions = {}): Promise<DatasetStore> {
    const dataDir = opts.dataDir ?? appPaths().data
    await mkdir(dataDir, { recursive: true })
    const corestore = opts.corestore ?? new Corestore(join(dataDir, 'corestore'))
    await corestore.ready()
    const store = new DatasetStore(corestore, dataDir, !opts.corestore)
    await store.load()
    await store.removeUnfinished()
    return store
  }

  /** A scratch directory for imports, beside the store so renames and disk space agree. */
  get tmpDir(): string {
    return join(this.dataDir, 'tmp')
  }

  list(): DatasetEntry[] {
    return this.entries.filter((e) => e.state === 'ready').map((e) => ({ ...e }))
  }

  entry(key: string): DatasetEntry | undefined {
    return this.entries.find((e) => e.key === key && e.state === 'ready')
  }

  /**
   * Writes a new dataset core: header, then the shards in order. The core's key pair derives from
   * the store's primary key and a fresh name, so only this node can ever append to it.
   */
  async create(header: DatasetHeader, shards: AsyncIterable<Buffer[]>): Promise<string> {
    const headerBlock = encodeHeader(header)
    const core = this.corestore.get({ name: `tandem/dataset/${randomUUID()}` })
    await core.ready()
    const key = core.key!.toString('hex')
    this.entries.push({
      key,
      name: header.name,
      role: 'origin',
      state: 'importing',
      addedAt: new Date().toISOString(),
    })
    try {
      await this.save()
      await core.append(headerBlock)
      for await (const batch of shards) await core.append(batch)
      if (core.length !== header.shards + 1) {
        throw new TandemError(
          'INTERNAL',
          `wrote ${core.length - 1} shards, expected ${header.shards}`,
        )
      }
      this.entries.find((e) => e.key === key)!.state = 'ready'
      await this.save()
      return key
    } catch (err) {
      await this.destroyCore(core).catch(() => {})
      this.entries = this.entries.filter((e) => e.key !== key)
      await this.save().catch(() => {})
      throw err
    } finally {
      await core.close()
    }
  }

  /**
   * Opens a dataset by key: local shards are read at once, missing ones come from peers (replicate
   * this store on the swarm and join the dataset's topic, see seeding.ts). Records it in the index.
   */
  async open(key: string | Buffer, opts: ReadOptions = {}): Promise<Dataset> {
    const buf = typeof key === 'string' ? parseDatasetKey(key) : key
    const dataset = await Dataset.open(this.corestore.get({ key: buf }), opts)
    const hex = buf.toString('hex')
    if (!this.entries.some((e) => e.key === hex)) {
      this.entries.push({
        key: hex,
        name: dataset.header.name,
        role: 'replica',
        state: 'ready',
        addedAt: new Date().toISOString(),
      })
      await this.save()
    }
    return dataset
  }

  /** Opens a dataset this node already knows, without waiting for peers. */
  async openLocal(key: string): Promise<Dataset> {
    const hex = parseDatasetKey(key).toString('hex')
    if (!this.entry(hex))
      throw new TandemError('DATASET_NOT_FOUND', `no dataset ${hex} on this node`)
    return this.open(hex, { wait: false })
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.corestore.close()
  }

  private get indexPath(): string {
    return join(this.dataDir, 'datasets.json')
  }

  private async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.indexPath, 'utf8')
    } catch {
      this.entries = []
      return
    }
    const parsed = indexSchema.safeParse(JSON.parse(text))
    if (!parsed.success) {
      throw new TandemError('INTERNAL', `dataset index ${this.indexPath} is corrupt`)
    }
    this.entries = parsed.data.datasets
  }

  /** Write-then-rename: a crash never leaves a half-written index. */
  private async save(): Promise<void> {
    const tmp = `${this.indexPath}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify({ version: 1, datasets: this.entries }, null, 2))
    await rename(tmp, this.indexPath)
  }

  private async removeUnfinished(): Promise<void> {
    const unfinished = this.entries.filter((e) => e.state === 'importing')
    if (!unfinished.length) return
    for (const e of unfinished) {
      const core = this.corestore.get({ key: Buffer.from(e.key, 'hex') })
      try {
        await this.destroyCore(core)
      } catch {
        // Nothing stored under that key: the import died before writing.
      } finally {
        await core.close().catch(() => {})
      }
    }
    this.entries = this.entries.filter((e) => e.state !== 'importing')
    await this.save()
  }

  /**
   * Removes a core's blocks, then its storage record. Corestore 7 has no public delete, so the last
   * step uses hypercore-storage's deleteCore when it is there; clearing alone already frees the data.
   */
  private async destroyCore(core: Hypercore): Promise<void> {
    await core.ready()
    if (core.length > 0) await core.clear(0, core.length)
    const internal = core as unknown as {
      state?: {
        storage?: { core?: unknown; store?: { deleteCore?: (ptr: unknown) => Promise<void> } }
      }
    }
    const storage = internal.state?.storage
    if (storage?.store?.deleteCore && storage.core) await storage.store.deleteCore(storage.core)
  }
}
