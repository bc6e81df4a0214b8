/**
 * What the contributor node opens before anything runs, in order (paths, log, identity, settings,
 * node state, the one corestore, the rate limiter, the swarm node on top), and closes last, in
 * reverse, once the node's parts have stopped. Each close runs even if an earlier one failed; the
 * log file goes last so the failures are in it. docs/node.md has the long story.
 */
import { DatasetStore } from '../data/dataset-store.js'
import { loadOrCreateIdentity, type Identity } from '../net/identity.js'
import { SwarmNode } from '../net/swarm-node.js'
import { appPaths, type AppPaths } from '../util/app-paths.js'
import { NodeLog } from './log.js'
import { NodeStateStore } from './node-state.js'
import { capsFromSettings, RateLimiter } from './rate-limit.js'
import { SettingsStore } from './settings.js'

export interface NodeResources {
  paths: AppPaths
  log: NodeLog
  identity: Identity
  settings: SettingsStore
  state: NodeStateStore
  datasets: DatasetStore
  net: SwarmNode
  limiter: RateLimiter
}

export interface OpenResourcesOptions {
  /** State root (TANDEM_HOME layout); default the platform's app dirs. */
  home?: string
  /** host:port of a private DHT; absent: the public DHT. */
  bootstrap?: string[]
  logEcho?: { write(line: string): unknown }
}

export async function openResources(opts: OpenResourcesOptions): Promise<NodeResources> {
  const paths = appPaths(opts.home ? { TANDEM_HOME: opts.home } : process.env)
  const log = new NodeLog({ dir: paths.log, echo: opts.logEcho })
  const identity = await loadOrCreateIdentity(paths.data)
  const settings = await SettingsStore.open({ dir: paths.config })
  const state = await NodeStateStore.open(paths.data)
  const datasets = await DatasetStore.open({ dataDir: paths.data })
  const limiter = new RateLimiter(capsFromSettings(settings.get()))
  const net = new SwarmNode({
    keyPair: identity,
    bootstrap: opts.bootstrap,
    corestore: datasets.corestore,
    roles: ['contributor', 'seeder'],
    agent: 'tandem-node',
    wrapConnection: (conn) => limiter.attach(conn),
  })
  return { paths, log, identity, settings, state, datasets, net, limiter }
}

/** `warn(what)` builds the handler that logs what failed to close. */
export async function closeResources(
  r: NodeResources,
  warn: (what: string) => (err: unknown) => void,
): Promise<void> {
  await r.state.flush().catch(() => {}) // reported through state.onWriteError (node.ts start())
  await r.settings.flushed().catch(warn('settings'))
  await r.net.destroy().catch(warn('network'))
  r.limiter.close()
  await r.datasets.close()
  await r.log.close()
}
