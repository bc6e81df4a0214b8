/**
 * The node's datasets: one corestore in the app data dir (shared with the rest of the node when it
 * passes its own), plus a small local index of which cores are datasets. The index is what `dataset
 * list` shows; an import is recorded as "importing" before its core exists and "ready" after it is
 * complete, so an import killed half-way is found and deleted the next time the store opens, and so
 * are the spool dirs of imports killed before they wrote anything (import-dirs.ts).
 */
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import { randomUUID } from 'node:crypto'
import { mkdir, open as openFile, readFile, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import { appPaths } from '../util/app-paths.js'
import { Dataset, type ReadOptions } from './dataset.js'
import { encodeHeader, type DatasetHeader } from './header.js'
import { removeStaleImportDirs } from './import-dirs.js'

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
    const corestore = opts.corestore ?? (await openCorestore(join(dataDir, 'corestore')))
    const store = new DatasetStore(corestore, dataDir, !opts.corestore)
    try {
      await store.load()
      await store.removeUnfinished()
      await removeStaleImportDirs(store.tmpDir)
    } catch (err) {
      // The open error is what the caller needs; a store that failed to open may fail to close too.
      await store.close().catch(() => {})
      throw err
    }
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
  async create(
    header: DatasetHeader,
    shards: AsyncIterable<Buffer[]>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<string> {
    const headerBlock = encodeHeader(header)
    // The key is computed, and recorded as "importing", before the core exists: a process killed
    // at any point after this leaves an index entry that the next open cleans up, never an
    // unlisted core.
    const name = `tandem/dataset/${randomUUID()}`
    const keyPair = await this.corestore.createKeyPair(name)
    const key = Hypercore.key({ version: 1, signers: [{ publicKey: keyPair.publicKey }] })
    const keyHex = key.toString('hex')
    this.entries.push({
      key: keyHex,
      name: header.name,
      role: 'origin',
      state: 'importing',
      addedAt: new Date().toISOString(),
    })
    let core: Hypercore | null = null
    try {
      await this.save()
      core = this.corestore.get({ name })
      await core.ready()
      if (!core.key!.equals(key)) {
        throw new TandemError('INTERNAL', 'corestore derived another key than expected')
      }
      await core.append(headerBlock)
      for await (const batch of shards) {
        opts.signal?.throwIfAborted()
        await core.append(batch)
      }
      if (core.length !== header.shards + 1) {
        throw new TandemError(
          'INTERNAL',
          `wrote ${core.length - 1} shards, expected ${header.shards}`,
        )
      }
      this.entries.find((e) => e.key === keyHex)!.state = 'ready'
      await this.save()
      return keyHex
    } catch (err) {
      // Undoing a failed import, best effort: the import's own error is rethrown below and is
      // the one to report. If the list is not saved, the next open removes the 'importing' entry.
      if (core) await this.destroyCore(core).catch(() => {})
      this.entries = this.entries.filter((e) => e.key !== keyHex)
      await this.save().catch(() => {}) // the next successful save writes the same list
      throw err
    } finally {
      await core?.close()
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

  /**
   * A corrupt index is refused, not rebuilt: it is the only record of which cores in a (possibly
   * shared) corestore are datasets, which this node wrote, and which imports were unfinished, so a
   * rebuild would have to guess, and a wrong guess lists a half-written import or deletes a core.
   * The file is left exactly as found; the error says how to recover.
   */
  private async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.indexPath, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.entries = []
        return
      }
      // Any other failure (permissions, I/O) must not pass for "no datasets": the next save
      // would overwrite the real index.
      throw new TandemError(
        'DATASET_INDEX_CORRUPT',
        `cannot read the dataset index ${this.indexPath}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw this.corrupt('it is not JSON', err)
    }
    const parsed = indexSchema.safeParse(json)
    if (!parsed.success) throw this.corrupt('it does not match the index schema', parsed.error)
    this.entries = parsed.data.datasets
  }

  private corrupt(why: string, cause: unknown): TandemError {
    return new TandemError(
      'DATASET_INDEX_CORRUPT',
      `the dataset index ${this.indexPath} is corrupt (${why}); it was left untouched. ` +
        'Restore it from a backup, or move it aside to start with an empty list ' +
        '(the data stays in the corestore; re-open replicas by key)',
      { cause },
    )
  }

  /** Write, fsync, rename: a crash or power loss never leaves a half-written index. */
  private async save(): Promise<void> {
    const tmp = `${this.indexPath}.${process.pid}.tmp`
    const fh = await openFile(tmp, 'w')
    try {
      await fh.writeFile(JSON.stringify({ version: 1, datasets: this.entries }, null, 2))
      await fh.sync()
    } finally {
      await fh.close()
    }
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
        await core.close().catch(() => {}) // best effort: the next open retries unfinished imports
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

/** Opens the node's corestore, mapping the storage lock held by another process to a coded error. */
async function openCorestore(path: string): Promise<Corestore> {
  const corestore = new Corestore(path)
  try {
    await corestore.ready()
  } catch (err) {
    await corestore.close().catch(() => {}) // rethrowing the ready() error below says what failed
    if (/could not be locked/i.test((err as Error).message ?? '')) {
      throw new TandemError(
        'DATASET_STORE_BUSY',
        `another Tandem process is using the data dir ${dirname(path)}; stop it or set TANDEM_HOME`,
        { cause: err },
      )
    }
    throw new TandemError('INTERNAL', `cannot open the corestore at ${path}`, { cause: err })
  }
  return corestore
}
