/**
 * Dataset test helpers: temp dirs, stores and loopback swarm nodes that clean up after the test,
 * and small synthetic inputs (IDX, CSV, text) written to disk.
 */
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { gzipSync } from 'node:zlib'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { joinDataset, replicateStore } from '../../core/data/seeding.js'
import { createSwarm } from '../../core/net/swarm.js'
import { startLoopbackTestnet, type LoopbackTestnet } from '../../core/net/testnet.js'

export const SHARED_DATA = join(process.cwd(), '..', 'shared', 'data')

const stacks = new WeakMap<TestContext, Array<() => unknown>>()

/**
 * Registers teardown that runs in reverse order of registration (node's t.after runs first-in,
 * first-out): resources made later, which depend on earlier ones, go first — swarms before the
 * testnet they use, datasets before their store.
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t)
  if (!stack) {
    const fresh: Array<() => unknown> = []
    stacks.set(t, fresh)
    stack = fresh
    t.after(async () => {
      for (const f of fresh.reverse()) await f()
    })
  }
  stack.push(fn)
}

export async function tempDir(t: TestContext, prefix = 'tandem-data-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  defer(t, () => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A store in its own temp dir; teardown closes it, then removes the dir (hooks run in order). */
export async function openStore(t: TestContext): Promise<DatasetStore> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-store-'))
  const store = await DatasetStore.open({ dataDir: dir })
  defer(t, async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return store
}

/** Cores in the store's storage (discovery keys), to prove a failed import left nothing. */
export async function storedCoreCount(store: DatasetStore): Promise<number> {
  let n = 0
  for await (const _ of store.corestore.list()) n++
  return n
}

export async function leftoverTempFiles(store: DatasetStore): Promise<string[]> {
  try {
    return await readdir(store.tmpDir)
  } catch {
    return []
  }
}

/** An IDX file: big-endian header (type byte, dims) then data. */
export function idxBytes(type: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length)
  head[2] = type
  head[3] = dims.length
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i))
  return Buffer.concat([head, data])
}

export interface SyntheticImages {
  images: string
  labels: string
  pixels: Uint8Array
  labelValues: Uint8Array
}

/** `count` 4×3 ubyte images whose pixels encode their index, labels i % classes. */
export async function writeSyntheticIdx(
  dir: string,
  count: number,
  opts: { gzip?: boolean; classes?: number } = {},
): Promise<SyntheticImages> {
  const classes = opts.classes ?? 3
  const pixels = new Uint8Array(count * 12).map((_, i) => (i * 7 + Math.floor(i / 12)) % 256)
  const labelValues = new Uint8Array(count).map((_, i) => i % classes)
  const ext = opts.gzip ? '.gz' : ''
  const enc = (b: Buffer) => (opts.gzip ? gzipSync(b) : b)
  const images = join(dir, `images-idx3-ubyte${ext}`)
  const labels = join(dir, `labels-idx1-ubyte${ext}`)
  await writeFile(images, enc(idxBytes(0x08, [count, 4, 3], pixels)))
  await writeFile(labels, enc(idxBytes(0x08, [count], labelValues)))
  return { images, labels, pixels, labelValues }
}

export async function writeText(dir: string, name: string, text: string | Buffer): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

/** A loopback DHT for one test. */
export async function startTestnet(t: TestContext): Promise<LoopbackTestnet> {
  const testnet = await startLoopbackTestnet(3)
  defer(t, () => testnet.destroy())
  return testnet
}

export interface DataNode {
  store: DatasetStore
  swarm: Hyperswarm
}

/** A node: its own store, a loopback swarm replicating that store on every connection. */
export async function startNode(t: TestContext, testnet: LoopbackTestnet): Promise<DataNode> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-node-'))
  const store = await DatasetStore.open({ dataDir: dir })
  const swarm = createSwarm(testnet.bootstrap)
  replicateStore(swarm, store.corestore)
  defer(t, async () => {
    await swarm.destroy()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { store, swarm }
}

/**
 * Joins nodes to a dataset's topic one after another (a lookup made before the others announced
 * finds nobody), then flushes every swarm so the connections exist before the test reads.
 */
export async function meet(swarms: Hyperswarm[], key: Buffer): Promise<void> {
  for (const swarm of swarms) await joinDataset(swarm, key)
  await Promise.all(swarms.map((s) => s.flush()))
}

/** A plain corestore (no Tandem code) with teardown, for interoperability tests. */
export async function plainCorestore(t: TestContext): Promise<Corestore> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-plain-'))
  const store = new Corestore(join(dir, 'corestore'))
  await store.ready()
  defer(t, async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return store
}

/** Replicates two stores in-process (no network): for tests of sparse reads and eviction. */
export function linkStores(
  t: TestContext,
  a: DatasetStore | Corestore,
  b: DatasetStore | Corestore,
): void {
  const store = (s: DatasetStore | Corestore): Corestore => ('corestore' in s ? s.corestore : s)
  const sa = store(a).replicate(true)
  const sb = store(b).replicate(false)
  sa.pipe(sb).pipe(sa)
  sa.on('error', () => {})
  sb.on('error', () => {})
  defer(t, () => {
    sa.destroy()
    sb.destroy()
  })
}
