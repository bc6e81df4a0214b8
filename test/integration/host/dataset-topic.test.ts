/**
 * A dataset is fetchable by its key alone: a plain corestore + hyperswarm client (no Tandem code on
 * the wire, bound to 127.0.0.1) that knows only the dataset key joins the core's discovery-key
 * topic and downloads the header and a shard, first from the running host, then from a
 * contributor once the host is gone. Host and participants announce there (SwarmNode.joinDataset).
 */
import assert from 'node:assert/strict'
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import { describe, it, type TestContext } from 'node:test'
import { Dataset } from '../../../core/data/dataset.js'
import { datasetTopic } from '../../../core/net/topics.js'
import { createSwarm } from '../../../core/net/swarm.js'
import { plainCorestore } from '../../support/data.js'
import { startTestHost, testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

/** A client that is only a corestore and a swarm, replicating on every connection. */
async function plainClient(
  t: TestContext,
  bootstrap: string[],
  swarms: Hyperswarm[],
): Promise<{ store: Corestore; swarm: Hyperswarm }> {
  const store = await plainCorestore(t)
  const swarm = createSwarm(bootstrap)
  swarms.push(swarm)
  swarm.on('connection', (conn: Hyperswarm.Connection) => {
    conn.on('error', () => {}) // a peer going away mid-transfer; hypercore asks another
    store.replicate(conn)
  })
  return { store, swarm }
}

/** Resolves once `swarm` has announced itself on the dataset's topic (fails if it never joined). */
async function announced(swarm: Hyperswarm, key: Buffer): Promise<void> {
  const discovery = swarm.status(datasetTopic(key))
  assert.ok(discovery, 'not on the dataset topic')
  await discovery.flushed()
}

/** Joins the dataset's topic knowing only its key; reads the header and `shard`. */
async function fetchByKey(
  client: { store: Corestore; swarm: Hyperswarm },
  key: Buffer,
  shard: number,
) {
  const core = client.store.get({ key })
  await core.ready()
  assert.ok(core.discoveryKey!.equals(datasetTopic(key)))
  await client.swarm.join(core.discoveryKey!, { client: true, server: false }).flushed()
  const dataset = await Dataset.open(core, { timeoutMs: 20_000 })
  try {
    return { header: dataset.header, shard: await dataset.readShard(shard, { timeoutMs: 20_000 }) }
  } finally {
    await dataset.close()
  }
}

describe('a dataset by its key alone', () => {
  it('a plain client finds the host, then a contributor, on the dataset topic', async (t) => {
    // Swarms made here go before the testnet (teardown runs in registration order).
    const swarms: Hyperswarm[] = []
    t.after(() => Promise.all(swarms.map((s) => s.destroy())))
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net)
    const key = h.dataset.key
    await h.host.start()
    // The host announces on the dataset topic as it starts; wait until that is out.
    await announced(h.node.swarm, key)

    const first = await fetchByKey(await plainClient(t, net.bootstrap, swarms), key, 0)
    assert.deepEqual(first.header, h.dataset.header)
    assert.deepEqual(first.shard, await h.dataset.readShard(0))

    // A contributor opens the dataset (its participant joins the topic) and holds a shard.
    const c = await testContributor(t, net, h.project)
    await c.participant.start()
    await waitUntil(
      () => c.node.datasetTopics().includes(datasetTopic(key).toString('hex')),
      'the participant on the dataset topic',
      30_000,
    )
    await announced(c.node.swarm, key)
    const last = h.dataset.header.shards - 1
    const held = await Dataset.open(c.store.get({ key }), { timeoutMs: 20_000 })
    await held.download([last]).done()
    await held.close()

    // The host goes away for good; the contributor still serves what it holds.
    await h.host.stop()
    await h.node.destroy()
    const second = await fetchByKey(await plainClient(t, net.bootstrap, swarms), key, last)
    assert.deepEqual(second.header, h.dataset.header)
    assert.deepEqual(second.shard, await h.dataset.readShard(last))
  })
})
