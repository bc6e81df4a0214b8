/**
 * Project-host fixtures: a small learnable tensor dataset, a project spec for it with a tiny MLP,
 * and a host and contributors on a loopback testnet (each with its own corestore), all torn down
 * with the test.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import type { TestContext } from 'node:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatasetStore } from '../../core/data/dataset-store.js'
import type { Dataset } from '../../core/data/dataset.js'
import {
  contentHashOf,
  DATASET_FORMAT,
  DATASET_FORMAT_VERSION,
  sha256Hex,
  type DatasetHeader,
} from '../../core/data/header.js'
import { encode } from '../../core/engine/compress/codec.js'
import { compressOnce } from '../../core/engine/compress/error-feedback.js'
import { seededRandom } from '../../core/engine/model/init.js'
import { ProjectHost, type ProjectHostOptions } from '../../core/host/host.js'
import { openContributorUpdateCore } from '../../core/ledger/update-core.js'
import { createProject, LedgerWriter, type HostKeyPair } from '../../core/ledger/ledger.js'
import { parseProjectSpec, type ProjectSpec } from '../../core/ledger/manifest.js'
import { publishUpdate } from '../../core/ledger/updates.js'
import { Charter } from '../../core/ledger/charter.js'
import type { SwarmNode } from '../../core/net/swarm-node.js'
import type { Ack, UpdateOffer } from '../../core/wire/messages.js'
import { Participant, type ParticipantOptions } from '../../core/node/participant/participant.js'
import { defer } from './data.js'
import type { TestNetwork } from './swarm.js'
import { spawnJsonProcess, type JsonProcess } from './process.js'

export const FEATURES = 12
export const CLASSES = 3

/**
 * Records of 12 float32 features in [0, 1) whose label is the index of the largest of the first 3:
 * learnable by a tiny MLP in a few dozen steps. Columnar shards (features, then labels).
 */
export function learnableShards(records: number, shardRecords: number, seed = 7): Buffer[] {
  const rand = seededRandom(seed)
  const shards: Buffer[] = []
  for (let start = 0; start < records; start += shardRecords) {
    const n = Math.min(shardRecords, records - start)
    const x = new Float32Array(n * FEATURES)
    const y = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      let best = 0
      for (let f = 0; f < FEATURES; f++) {
        x[i * FEATURES + f] = rand()
        if (f < CLASSES && x[i * FEATURES + f]! > x[i * FEATURES + best]!) best = f
      }
      y[i] = best
    }
    shards.push(Buffer.concat([Buffer.from(x.buffer), Buffer.from(y)]))
  }
  return shards
}

export function learnableHeader(shards: Buffer[], records: number, shardRecords: number) {
  const hashes = shards.map((s) => sha256Hex(s))
  const header: DatasetHeader = {
    format: DATASET_FORMAT,
    version: DATASET_FORMAT_VERSION,
    name: 'argmax-12',
    description: 'label = argmax of the first three features',
    license: 'CC0-1.0',
    source: { importer: 'csv', files: [] },
    layout: {
      kind: 'tensors',
      shape: [FEATURES],
      dtype: 'float32',
      scale: 1,
      labels: { dtype: 'uint8', classes: CLASSES },
    },
    records,
    shardRecords,
    shards: shards.length,
    validation: { shards: 3 },
    shardHashes: hashes,
    contentHash: contentHashOf(hashes),
  }
  return header
}

/** Writes the learnable dataset (1,500 records, 15 shards, the last 3 held out) into `store`. */
export async function createLearnableDataset(store: DatasetStore): Promise<string> {
  const records = 1500
  const shardRecords = 100
  const shards = learnableShards(records, shardRecords)
  const header = learnableHeader(shards, records, shardRecords)
  async function* batches() {
    yield shards
  }
  return store.create(header, batches())
}

export function hostSpec(datasetKey: string, recipe: Record<string, unknown> = {}) {
  return parseProjectSpec({
    name: 'argmax host test',
    model: { type: 'mlp', inputSize: FEATURES, hidden: [16], classes: CLASSES, activation: 'tanh' },
    dataset: { key: datasetKey },
    recipe: {
      innerSteps: 16,
      batchSize: 16,
      inner: { peakLr: 0.02, warmupSteps: 2, totalSteps: 200, minLrRatio: 0.1, weightDecay: 0 },
      outer: {},
      roundDeadlineSec: 60,
      minUpdates: 4,
      maxUpdates: 4,
      ...recipe,
    },
  })
}

export interface TestHost {
  store: DatasetStore
  keyPair: HostKeyPair
  node: SwarmNode
  ledger: LedgerWriter
  dataset: Dataset
  project: string
  host: ProjectHost
}

async function tempStore(t: TestContext, prefix: string): Promise<DatasetStore> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const store = await DatasetStore.open({ dataDir: dir })
  defer(t, async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return store
}

export type TestHostOptions = Partial<
  Omit<ProjectHostOptions, 'node' | 'store' | 'keyPair' | 'ledger' | 'dataset'>
>

/**
 * Creates `spec`'s project in `store` (whose dataset it names) and a host node for it (its identity
 * = the project's host key); not started. Torn down with the test.
 */
export async function hostProjectIn(
  t: TestContext,
  net: TestNetwork,
  store: DatasetStore,
  spec: ProjectSpec,
  opts: TestHostOptions = {},
): Promise<TestHost> {
  const keyPair = crypto.keyPair()
  const project = await createProject(store.corestore, spec, keyPair)
  const node = net.node({ keyPair, corestore: store.corestore, roles: ['host'] })
  const ledger = await LedgerWriter.open(store.corestore, keyPair)
  const dataset = await store.openLocal(spec.dataset.key)
  const host = new ProjectHost({
    node,
    store: store.corestore,
    keyPair,
    ledger,
    dataset,
    announceEveryMs: 5_000,
    fetchTimeoutMs: 20_000,
    ...opts,
  })
  host.on('warning', (err) => t.diagnostic(`host warning: ${String(err)}`))
  defer(t, async () => {
    await host.stop()
    await dataset.close()
    await ledger.close()
  })
  return { store, keyPair, node, ledger, dataset, project, host }
}

/** A host node (its identity = the project's host key) with a fresh dataset and project. */
export async function startTestHost(
  t: TestContext,
  net: TestNetwork,
  opts: { recipe?: Record<string, unknown>; host?: TestHostOptions; charter?: unknown } = {},
): Promise<TestHost> {
  const store = await tempStore(t, 'tandem-host-')
  const datasetKey = await createLearnableDataset(store)
  const spec = hostSpec(datasetKey, opts.recipe)
  if (opts.charter !== undefined) spec.charter = Charter.parse(opts.charter)
  return hostProjectIn(t, net, store, spec, opts.host)
}

export interface TestContributor {
  store: Corestore
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  node: SwarmNode
  participant: Participant
}

/** A contributor node with its own corestore, following `project`. Not started. */
export async function testContributor(
  t: TestContext,
  net: TestNetwork,
  project: string,
  opts: Partial<ParticipantOptions> = {},
): Promise<TestContributor> {
  const datasets = await tempStore(t, 'tandem-contrib-')
  const store = datasets.corestore
  const keyPair = crypto.keyPair()
  const node = net.node({ keyPair, corestore: store })
  const participant = new Participant({
    node,
    store,
    keyPair,
    project,
    engineOptions: { backend: 'cpu', maxThreads: 1 },
    ledgerTimeoutMs: 20_000,
    dataTimeoutMs: 20_000,
    offerRetryMs: 2_000,
    ...opts,
  })
  participant.on('warning', (err) => t.diagnostic(`participant warning: ${String(err)}`))
  defer(t, () => participant.stop())
  return { store, keyPair, node, participant }
}

export interface RawContributor {
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  hex: string
  node: SwarmNode
  store: Corestore
  /** This contributor's own (derived) update core. */
  core: Hypercore
  acks: Ack[]
  publish(round: number, encoded: Uint8Array, checkpointHash: string): Promise<UpdateOffer>
  offer(offer: UpdateOffer): void
  /** Resolves with the first ack for `hash` (hex) in `round` that satisfies `status`. */
  ack(round: number, hash: string, status?: Ack['status']): Promise<Ack>
}

/** A hand-driven contributor: publishes and offers whatever the test says, records acks. */
export async function rawContributor(
  t: TestContext,
  net: TestNetwork,
  project: string,
): Promise<RawContributor> {
  const datasets = await tempStore(t, 'tandem-raw-')
  const store = datasets.corestore
  const keyPair = crypto.keyPair()
  const node = net.node({ keyPair, corestore: store })
  const core = await openContributorUpdateCore(store, keyPair, project)
  defer(t, () => core.close())
  const acks: Ack[] = []
  const waiters = new Set<() => void>()
  node.on('message', (_peer, msg) => {
    if (msg.type !== 'ack') return
    acks.push(msg.body)
    for (const w of waiters) w()
  })
  node.joinProject(Buffer.from(project, 'hex'))
  const hostKey = async () => {
    const c = store.get({ key: Buffer.from(project, 'hex') })
    await c.ready()
    const m = JSON.parse((await c.get(0, { timeout: 10_000 }))!.toString()) as { host: string }
    await c.close()
    return Buffer.from(m.host, 'hex')
  }
  const host = await hostKey()
  return {
    keyPair,
    hex: keyPair.publicKey.toString('hex'),
    node,
    store,
    core,
    acks,
    async publish(round, encoded, checkpointHash) {
      const samples = 256
      const ref = await publishUpdate(core, { project, round, checkpointHash, samples, encoded })
      return {
        project: Buffer.from(project, 'hex'),
        round,
        core: core.key!,
        ...ref,
        samples,
      }
    },
    offer(offer) {
      node.send(host, 'updateOffer', offer)
    },
    ack(round, hash, status) {
      const find = () =>
        acks.find(
          (a) =>
            a.round === round &&
            Buffer.from(a.ref).toString('hex') === hash &&
            (!status || a.status === status),
        )
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no ${status ?? ''} ack for ${hash.slice(0, 8)} in round ${round}`))
        }, 20_000)
        const check = () => {
          const a = find()
          if (!a) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(a)
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/** A small valid Δ for the host-test model, int8-encoded (the manifest's default compression). */
export function smallUpdate(n: number, seed: number, scale = 1e-3): Uint8Array {
  const rand = seededRandom(seed)
  const delta = new Float32Array(n).map(() => (rand() - 0.5) * scale)
  return encode(compressOnce(delta, { method: 'int8', blockSize: 256 }))
}

/** Writes a dataset and a project into a data dir for test/support/host-process.ts. */
export async function prepareHostState(
  dir: string,
  recipe: Record<string, unknown> = {},
): Promise<{ project: string; dataset: string }> {
  const store = await DatasetStore.open({ dataDir: dir })
  try {
    const dataset = await createLearnableDataset(store)
    const keyPair = crypto.keyPair()
    const project = await createProject(store.corestore, hostSpec(dataset, recipe), keyPair)
    await writeFile(
      join(dir, 'host.json'),
      JSON.stringify({
        publicKey: keyPair.publicKey.toString('hex'),
        secretKey: keyPair.secretKey.toString('hex'),
        dataset,
      }),
    )
    return { project, dataset }
  } finally {
    await store.close()
  }
}

export type HostProcess = JsonProcess

/** Starts test/support/host-process.ts on a state dir; killed (SIGKILL) when the test ends. */
export function spawnHostProcess(t: TestContext, dir: string, bootstrap: string): HostProcess {
  return spawnJsonProcess(t, 'test/support/host-process.ts', [dir, bootstrap], 'host')
}
