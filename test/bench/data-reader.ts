/**
 * The reading side of `npm run bench:data`, in its own process: fetches the Tandem dataset (all
 * shards, each checked against the header hash) and a plain hypercore holding the same blocks,
 * twice each in alternating order, and prints one JSON line with the best time of each.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { joinDataset, replicateStore } from '../../core/data/seeding.js'
import { createSwarm } from '../../core/net/swarm.js'

interface Args {
  bootstrap: string[]
  datasetKey: string
  rawKey: string
}

const args = JSON.parse(process.env['BENCH_ARGS'] ?? '{}') as Args
const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-reader-'))
const store = await DatasetStore.open({ dataDir: dir })
const swarm = createSwarm(args.bootstrap)
replicateStore(swarm, store.corestore)
const datasetKey = Buffer.from(args.datasetKey, 'hex')
const rawKey = Buffer.from(args.rawKey, 'hex')
await joinDataset(swarm, datasetKey)
await joinDataset(swarm, rawKey)
await swarm.flush()

// Block 0 of each is fetched before timing: both sides then know the length and have a peer.
const ds = await store.open(datasetKey, { timeoutMs: 30_000 })
const raw = store.corestore.get({ key: rawKey })
await raw.get(0, { timeout: 30_000 })
await raw.update({ wait: true })
const shards = Array.from({ length: ds.header.shards }, (_, s) => s)
const bytes = shards.reduce((a, s) => a + ds.shardBytes(s), 0)

async function timeTandem(): Promise<number> {
  const t0 = performance.now()
  await ds.download(shards).done()
  for (const s of shards) await ds.readShardBytes(s, { wait: false })
  return performance.now() - t0
}

async function timeRaw(): Promise<number> {
  const t0 = performance.now()
  await raw.download({ start: 1, end: raw.length }).done()
  return performance.now() - t0
}

async function clearBoth(): Promise<void> {
  await ds.clearShards(shards)
  await raw.clear(1, raw.length)
}

const times = { tandem: [] as number[], raw: [] as number[] }
times.raw.push(await timeRaw())
times.tandem.push(await timeTandem())
await clearBoth()
times.tandem.push(await timeTandem())
times.raw.push(await timeRaw())

process.stdout.write(
  JSON.stringify({
    bytes,
    tandemMs: Math.min(...times.tandem),
    rawMs: Math.min(...times.raw),
    runs: times,
    verificationErrors: ds.stats.verificationErrors,
  }) + '\n',
)
await ds.close()
await raw.close()
await swarm.destroy()
await store.close()
await rm(dir, { recursive: true, force: true })
