/**
 * Serving and fetching datasets over a swarm. Corestore replicates every core it stores over each
 * connection, so any node holding shards serves them, not only the creator; a dataset's peers meet
 * on its discovery key (which does not reveal the key itself). The node's swarm owner (core/net)
 * may call these with its own swarm; tests and benchmarks use them directly.
 *
 * Upload/download rate caps hook in at `replicateStore`: the per-connection replication stream is
 * the one place all dataset bytes pass through.
 */
import type Corestore from 'corestore'
import Hypercore from 'hypercore'
import type Hyperswarm from 'hyperswarm'
import type { Dataset } from './dataset.js'

/** Replicates `store` on every current and future connection; returns a function that stops it. */
export function replicateStore(swarm: Hyperswarm, store: Corestore): () => void {
  const onConnection = (conn: Hyperswarm.Connection) => {
    conn.on('error', () => {}) // a peer leaving mid-transfer is normal; hypercore retries elsewhere
    store.replicate(conn)
  }
  for (const conn of swarm.connections) onConnection(conn)
  swarm.on('connection', onConnection)
  return () => void swarm.off('connection', onConnection)
}

/**
 * Joins the dataset's topic (its discovery key) as server and client and waits until this node is
 * announced, so that a peer looking it up next finds it. Takes the key, not an open Dataset: a
 * contributor must join before it can fetch the header.
 */
export async function joinDataset(swarm: Hyperswarm, key: Buffer | Dataset): Promise<void> {
  const topic = Buffer.isBuffer(key) ? Hypercore.discoveryKey(key) : key.discoveryKey
  await swarm.join(topic, { server: true, client: true }).flushed()
}
