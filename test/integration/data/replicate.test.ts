/**
 * Datasets between nodes on a loopback testnet: sparse round trip, seeding by non-creators, a plain
 * corestore client reading a Tandem dataset, and rejection of tampered data and of data signed by
 * another key.
 */
import Hypercore from 'hypercore'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { assignShards } from '../../../core/data/assignment.js'
import { importDataset } from '../../../core/data/import.js'
import { replicateStore } from '../../../core/data/seeding.js'
import { createSwarm } from '../../../core/net/swarm.js'
import {
  meet,
  plainCorestore,
  startNode,
  startTestnet,
  tempDir,
  writeSyntheticIdx,
  type DataNode,
  defer,
} from '../../support/data.js'
import { waitUntil } from '../../support/wait.js'

async function origin(t: TestContext, node: DataNode, count = 200) {
  const src = await writeSyntheticIdx(await tempDir(t), count, { classes: 4 })
  const { key, header } = await importDataset(node.store, {
    file: src.images,
    labels: src.labels,
    shardSize: { records: 16 },
  })
  return { key: Buffer.from(key, 'hex'), header }
}

describe('dataset replication (loopback testnet)', () => {
  it('a contributor downloads only its assigned shards, verified, and reads them back', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const worker = await startNode(t, testnet)
    const { key, header } = await origin(t, host)
    await meet([host.swarm, worker.swarm], key)

    const ds = await worker.store.open(key, { timeoutMs: 20_000 })
    defer(t, () => ds.close())
    assert.deepEqual(ds.header, header)
    const assigned = assignShards({
      projectKey: createHash('sha256').update('project').digest(),
      contributorKey: worker.swarm.keyPair.publicKey,
      round: 0,
      shardCount: ds.trainingShards,
      count: 3,
    })
    await ds.download(assigned).done()
    assert.deepEqual(
      await ds.localShards(),
      [...assigned].sort((a, b) => a - b),
    )

    const hostDs = await host.store.openLocal(key.toString('hex'))
    defer(t, () => hostDs.close())
    for (const s of assigned) {
      assert.deepEqual(await ds.readShardBytes(s, { wait: false }), await hostDs.readShardBytes(s))
    }
    assert.ok(ds.stats.bytesDownloaded > 0)
    assert.equal(ds.stats.verificationErrors, 0)
    assert.deepEqual(
      worker.store.list().map((e) => [e.key, e.role]),
      [[key.toString('hex'), 'replica']],
    )
  })

  it('a node that holds shards serves them after the creator has left', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const a = await startNode(t, testnet)
    const b = await startNode(t, testnet)
    const { key } = await origin(t, host)
    await meet([host.swarm, a.swarm], key)
    const dsA = await a.store.open(key, { timeoutMs: 20_000 })
    defer(t, () => dsA.close())
    await dsA.download([2, 5]).done()
    await host.swarm.destroy()

    await meet([b.swarm], key)
    const dsB = await b.store.open(key, { timeoutMs: 20_000 })
    defer(t, () => dsB.close())
    assert.deepEqual(
      await dsB.readShardBytes(5, { timeoutMs: 20_000 }),
      await dsA.readShardBytes(5),
    )
    assert.ok(dsA.stats.bytesUploaded > 0, 'the non-creator uploaded')
    // Shard 7 was never fetched by anyone still online: it is unavailable, not invented.
    await assert.rejects(dsB.readShardBytes(7, { timeoutMs: 300 }), { code: 'DATASET_UNAVAILABLE' })
  })

  it('a plain corestore/hypercore client reads a Tandem dataset given only its key', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const { key, header } = await origin(t, host)
    const plain = await plainCorestore(t)
    const swarm = createSwarm(testnet.bootstrap)
    defer(t, () => swarm.destroy())
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      plain.replicate(conn)
    })
    await host.swarm.join(Hypercore.discoveryKey(key)).flushed()
    await swarm.join(Hypercore.discoveryKey(key)).flushed()
    await swarm.flush()

    const core = plain.get({ key })
    defer(t, () => core.close())
    await core.ready()
    // Block 0 is UTF-8 JSON; shard i is block i + 1 and hashes to header.shardHashes[i].
    const block0 = await core.get(0, { timeout: 20_000 })
    const parsed = JSON.parse(block0!.toString('utf8')) as typeof header
    assert.equal(parsed.format, 'tandem-dataset')
    assert.deepEqual(parsed.shardHashes, header.shardHashes)
    const shard = await core.get(3, { timeout: 20_000 })
    assert.equal(createHash('sha256').update(shard!).digest('hex'), parsed.shardHashes[2])
    assert.equal(shard!.length, parsed.shardRecords * (12 + 1))
  })

  it('tampered blocks are rejected by verification and never stored', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const worker = await startNode(t, testnet)
    const { key } = await origin(t, host)

    // The host turns malicious: every data message it sends for a shard block has a flipped byte.
    const hostCore = host.store.corestore.get({ key })
    defer(t, () => hostCore.close())
    await hostCore.ready()
    const tamper = (peer: Hypercore.Peer) => {
      const wire = (peer as unknown as { wireData: { send(m: unknown): void } }).wireData
      const send = wire.send.bind(wire)
      wire.send = (msg) => {
        const m = msg as { block?: { index: number; value: Buffer } | null }
        if (m.block && m.block.index > 0) {
          const value = Buffer.from(m.block.value)
          value[0] = value[0]! ^ 0xff
          m.block = { ...m.block, value }
        }
        send(m)
      }
    }
    for (const peer of hostCore.peers) tamper(peer)
    hostCore.on('peer-add', tamper)

    await meet([host.swarm, worker.swarm], key)
    const ds = await worker.store.open(key, { timeoutMs: 20_000 })
    defer(t, () => ds.close())
    const read = ds.readShardBytes(1, { timeoutMs: 2_000 })
    await waitUntil(() => ds.stats.verificationErrors > 0, 'a verification error', 20_000)
    await assert.rejects(read, { code: 'DATASET_UNAVAILABLE' })
    assert.equal(await ds.hasShard(1), false, 'the tampered block was not stored')
  })

  it('wrong-key data: identical blocks signed by another key are rejected', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const worker = await startNode(t, testnet)
    const { key } = await origin(t, host, 40)

    // An impostor core: the very same blocks, so the same Merkle tree, signed by another key.
    const hostCore = host.store.corestore.get({ key })
    defer(t, () => hostCore.close())
    await hostCore.ready()
    const impostor = host.store.corestore.get({ name: 'impostor' })
    defer(t, () => impostor.close())
    for (let i = 0; i < hostCore.length; i++) await impostor.append((await hostCore.get(i))!)
    assert.notDeepEqual(impostor.key, key)
    const signature = (impostor as unknown as { state: { signature: Buffer } }).state.signature

    // The host serves the dataset under its real key, but every signed upgrade (the only thing
    // that ties blocks to the key) carries the impostor's signature instead of the writer's.
    const forge = (peer: Hypercore.Peer) => {
      const wire = (peer as unknown as { wireData: { send(m: unknown): void } }).wireData
      const send = wire.send.bind(wire)
      wire.send = (msg) => {
        const m = msg as { upgrade?: { signature: Buffer | null } | null }
        if (m.upgrade) m.upgrade = { ...m.upgrade, signature }
        send(m)
      }
    }
    for (const peer of hostCore.peers) forge(peer)
    hostCore.on('peer-add', forge)

    let verificationErrors = 0
    const watch = worker.store.corestore.get({ key })
    defer(t, () => watch.close())
    watch.on('verification-error', () => void verificationErrors++)
    await meet([host.swarm, worker.swarm], key)
    const opened = worker.store.open(key, { timeoutMs: 4_000 })
    await waitUntil(() => verificationErrors > 0, 'a verification error', 20_000)
    await assert.rejects(opened, { code: 'DATASET_UNAVAILABLE' })
    await watch.ready()
    assert.equal(watch.length, 0, 'no length signed by the wrong key was accepted')
    assert.equal(await watch.has(0), false, 'no block was stored')
    assert.deepEqual(worker.store.list(), [])
  })

  it('a key nobody serves, and a core that is not a dataset', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const worker = await startNode(t, testnet)
    await origin(t, host)

    // A plain hypercore on the host whose block 0 is not a Tandem header.
    const bogus = host.store.corestore.get({ name: 'not-a-dataset' })
    defer(t, () => bogus.close())
    await bogus.append([Buffer.from('hello'), Buffer.from('world')])
    await meet([host.swarm, worker.swarm], bogus.key!)
    await assert.rejects(worker.store.open(bogus.key!, { timeoutMs: 20_000 }), {
      code: 'DATASET_BAD_HEADER',
    })

    const unknown = createHash('sha256').update('nobody has this').digest()
    await assert.rejects(worker.store.open(unknown, { timeoutMs: 500 }), {
      code: 'DATASET_UNAVAILABLE',
    })
    assert.deepEqual(worker.store.list(), [])
  })

  it('seeding helpers attach to connections that already exist', async (t) => {
    const testnet = await startTestnet(t)
    const host = await startNode(t, testnet)
    const { key } = await origin(t, host, 40)
    const late = createSwarm(testnet.bootstrap)
    defer(t, () => late.destroy())
    const store = await plainCorestore(t)
    await host.swarm.join(Hypercore.discoveryKey(key)).flushed()
    await late.join(Hypercore.discoveryKey(key)).flushed()
    await late.flush()
    await waitUntil(() => late.connections.size > 0, 'a connection', 20_000)
    const stop = replicateStore(late, store)
    defer(t, stop)
    const core = store.get({ key })
    defer(t, () => core.close())
    assert.ok(await core.get(0, { timeout: 20_000 }))
  })
})
