/**
 * Project-host fixtures: a small learnable tensor dataset, a project spec for it with a tiny MLP,
 * and a host and contributors on a loopback testnet (each with its own corestore), all torn down
 * with the test.
 */
import type Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import type { TestContext } from 'node:test'
import { mkdtemp, rm } from 'node:fs/promises'
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
import { seededRandom } from '../../core/engine/model/init.js'
import { ProjectHost, type ProjectHostOptions } from '../../core/host/host.js'
import { createProject, LedgerWriter, type HostKeyPair } from '../../core/ledger/ledger.js'
import { parseProjectSpec } from '../../core/ledger/manifest.js'
import type { TandemNode } from '../../core/net/node.js'
import { Participant, type ParticipantOptions } from '../../core/node/participant.js'
import { defer } from './data.js'
import type { TestNetwork } from './swarm.js'

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
  node: TandemNode
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

/** A host node (its identity = the project's host key) with a fresh dataset and project. */
export async function startTestHost(
  t: TestContext,
  net: TestNetwork,
  opts: {
    recipe?: Record<string, unknown>
    host?: Partial<Omit<ProjectHostOptions, 'node' | 'store' | 'keyPair' | 'ledger' | 'dataset'>>
  } = {},
): Promise<TestHost> {
  const store = await tempStore(t, 'tandem-host-')
  const datasetKey = await createLearnableDataset(store)
  const keyPair = crypto.keyPair()
  const project = await createProject(store.corestore, hostSpec(datasetKey, opts.recipe), keyPair)
  const node = net.node({ keyPair, corestore: store.corestore, roles: ['host'] })
  const ledger = await LedgerWriter.open(store.corestore, keyPair)
  const dataset = await store.openLocal(datasetKey)
  const host = new ProjectHost({
    node,
    store: store.corestore,
    keyPair,
    ledger,
    dataset,
    announceEveryMs: 5_000,
    fetchTimeoutMs: 20_000,
    ...opts.host,
  })
  host.on('warning', (err) => t.diagnostic(`host warning: ${String(err)}`))
  defer(t, async () => {
    await host.stop()
    await dataset.close()
    await ledger.close()
  })
  return { store, keyPair, node, ledger, dataset, project, host }
}

export interface TestContributor {
  store: Corestore
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  node: TandemNode
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
