/**
 * A real project on a loopback testnet for the swarm experiments: a host and contributors, each a
 * SwarmNode with its own corestore and its own RateLimiter (core/node/rate-limit.ts, the one a
 * contributor node attaches to every connection): it caps the node's traffic when given caps, and
 * counts every plaintext byte the node sends and receives (ledger, checkpoints, dataset shards,
 * updates, control messages) either way. Built from the test fixtures; `evalScope` stands in for
 * node:test's context so their teardown runs when the experiment ends.
 */
import type { TestContext } from 'node:test'
import crypto from 'hypercore-crypto'
import type Corestore from 'corestore'
import { ProjectHost } from '../../../core/host/host.js'
import type { RoundClosedEvent } from '../../../core/host/host-events.js'
import { createProject, LedgerWriter, type HostKeyPair } from '../../../core/ledger/ledger.js'
import type { ProjectSpec } from '../../../core/ledger/manifest.js'
import type { SwarmNode } from '../../../core/net/swarm-node.js'
import { Participant, type ParticipantOptions } from '../../../core/node/participant/participant.js'
import { RateLimiter, type RateCaps, type RateLimiterStats } from '../../../core/node/rate-limit.js'
import type { DatasetStore } from '../../../core/data/dataset-store.js'
import type { Dataset } from '../../../core/data/dataset.js'
import { openStore } from '../../support/data.js'
import { createLearnableDataset, hostSpec } from '../../support/host-fixtures.js'
import { loopbackTestnet, type TestNetwork } from '../../support/swarm.js'

export interface EvalScope {
  /** A stand-in for node:test's context: `after` hooks and diagnostics. */
  t: TestContext
  /** Runs the `after` hooks in the order they were added, as node:test does. */
  close(): Promise<void>
}

export function evalScope(log: (line: string) => void): EvalScope {
  const hooks: Array<() => unknown> = []
  const t = {
    after: (fn: () => unknown) => void hooks.push(fn),
    diagnostic: (msg: string) => log(msg),
  } as unknown as TestContext
  return {
    t,
    async close() {
      for (const fn of hooks.splice(0)) {
        try {
          await fn()
        } catch (err) {
          log(`teardown: ${String(err)}`)
        }
      }
    },
  }
}

const UNLIMITED: RateCaps = { uploadKiBps: 0, downloadKiBps: 0 }

export interface MeteredHost {
  net: TestNetwork
  store: DatasetStore
  node: SwarmNode
  limiter: RateLimiter
  keyPair: HostKeyPair
  ledger: LedgerWriter
  dataset: Dataset
  project: string
  spec: ProjectSpec
  host: ProjectHost
}

export interface HostSetup {
  /** Hidden layers of the MLP (12 features → hidden → 3 classes). */
  hidden: number[]
  recipe: Record<string, unknown>
  rounds: number
  caps?: RateCaps
  fetchTimeoutMs?: number
}

/** A testnet, the learnable dataset, its project and a host (not started), all metered. */
export async function meteredHost(s: EvalScope, setup: HostSetup): Promise<MeteredHost> {
  const net = await loopbackTestnet(s.t)
  const store = await openStore(s.t)
  const datasetKey = await createLearnableDataset(store)
  const base = hostSpec(datasetKey, setup.recipe)
  const spec = { ...base, model: { ...base.model, hidden: setup.hidden } } as ProjectSpec
  const keyPair = crypto.keyPair()
  const project = await createProject(store.corestore, spec, keyPair)
  const limiter = new RateLimiter(setup.caps ?? UNLIMITED)
  const node = net.node({
    keyPair,
    corestore: store.corestore,
    roles: ['host'],
    wrapConnection: (conn) => limiter.attach(conn),
  })
  const ledger = await LedgerWriter.open(store.corestore, keyPair)
  const dataset = await store.openLocal(spec.dataset.key)
  const host = new ProjectHost({
    node,
    store: store.corestore,
    keyPair,
    ledger,
    dataset,
    announceEveryMs: 5_000,
    fetchTimeoutMs: setup.fetchTimeoutMs ?? 60_000,
    rounds: setup.rounds,
  })
  s.t.after(async () => {
    await host.stop()
    await dataset.close()
    await ledger.close()
    limiter.close()
  })
  return { net, store, node, limiter, keyPair, ledger, dataset, project, spec, host }
}

export interface MeteredContributor {
  key: string
  node: SwarmNode
  store: Corestore
  limiter: RateLimiter
  participant: Participant
}

/** A contributor following `project` with its own store and meter (not started). */
export async function meteredContributor(
  s: EvalScope,
  host: MeteredHost,
  caps: RateCaps = UNLIMITED,
  opts: Partial<ParticipantOptions> = {},
): Promise<MeteredContributor> {
  const datasets = await openStore(s.t)
  const store = datasets.corestore
  const keyPair = crypto.keyPair()
  const limiter = new RateLimiter(caps)
  const node = host.net.node({
    keyPair,
    corestore: store,
    wrapConnection: (conn) => limiter.attach(conn),
  })
  const participant = new Participant({
    node,
    store,
    keyPair,
    project: host.project,
    engineOptions: { backend: 'cpu', maxThreads: 1 },
    ledgerTimeoutMs: 60_000,
    dataTimeoutMs: 60_000,
    offerRetryMs: 2_000,
    ...opts,
  })
  participant.on('warning', (err) => s.t.diagnostic(`participant warning: ${String(err)}`))
  s.t.after(async () => {
    await participant.stop()
    limiter.close()
  })
  return { key: keyPair.publicKey.toString('hex'), node, store, limiter, participant }
}

/** Byte counters of every node at one moment. */
export interface Snapshot {
  at: number
  host: RateLimiterStats
  contributors: RateLimiterStats[]
}

export function snapshot(host: MeteredHost, contributors: MeteredContributor[]): Snapshot {
  return {
    at: performance.now(),
    host: host.limiter.stats(),
    contributors: contributors.map((c) => c.limiter.stats()),
  }
}

export interface RoundTraffic {
  round: number
  closed: RoundClosedEvent
  seconds: number
  /** Per contributor, bytes in this round's window (previous close → this close). */
  sent: number[]
  received: number[]
  hostSent: number
  hostReceived: number
}

/** Per-round byte windows from snapshots taken at start and at each round's close. */
export function roundWindows(
  start: Snapshot,
  closes: { event: RoundClosedEvent; snap: Snapshot }[],
): RoundTraffic[] {
  let prev = start
  return closes.map(({ event, snap }) => {
    const w: RoundTraffic = {
      round: event.round,
      closed: event,
      seconds: (snap.at - prev.at) / 1000,
      sent: snap.contributors.map((c, i) => c.bytesUp - (prev.contributors[i]?.bytesUp ?? 0)),
      received: snap.contributors.map(
        (c, i) => c.bytesDown - (prev.contributors[i]?.bytesDown ?? 0),
      ),
      hostSent: snap.host.bytesUp - prev.host.bytesUp,
      hostReceived: snap.host.bytesDown - prev.host.bytesDown,
    }
    prev = snap
    return w
  })
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
