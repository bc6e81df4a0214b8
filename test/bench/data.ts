/**
 * `npm run bench:data`: dataset import throughput, and replication throughput between two
 * processes over a loopback testnet, side by side with plain hypercore replication of the same
 * blocks in the same run. Prints readable numbers, then one JSON line.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { importDataset } from '../../core/data/import.js'
import { joinDataset, replicateStore } from '../../core/data/seeding.js'
import { createSwarm } from '../../core/net/swarm.js'
import { startLoopbackTestnet } from '../../core/net/testnet.js'

const MB = 1e6
/** Tandem replication should reach at least this fraction of plain hypercore's throughput. */
const TARGET_RATIO = 0.8
const SIZE = Number(process.env['BENCH_DATA_MB'] ?? 64) * MB
const log = (line: string) => process.stderr.write(line + '\n')

/** ASCII text from a fixed word list and a fixed generator: same input every run. */
function corpus(bytes: number): Buffer {
  const words = 'the of and to in a is that for it as was with be by on not he this are or his'
    .split(' ')
    .map((w) => Buffer.from(w + ' '))
  const out = Buffer.allocUnsafe(bytes)
  let x = 2463534242
  let at = 0
  while (at < bytes) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const w = words[(x >>> 0) % words.length]!
    at += w.copy(out, at, 0, Math.min(w.length, bytes - at))
    if ((x & 63) === 0 && at < bytes) out[at++] = 0x0a
  }
  return out
}

const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-data-'))
const testnet = await startLoopbackTestnet(3)
try {
  const input = join(dir, 'corpus.txt')
  await writeFile(input, corpus(SIZE))
  const store = await DatasetStore.open({ dataDir: join(dir, 'writer') })

  const t0 = performance.now()
  const { key, header } = await importDataset(store, { file: input, shardSize: { bytes: 1 << 20 } })
  const importS = (performance.now() - t0) / 1000
  const importMBps = SIZE / MB / importS
  log(
    `import: ${(SIZE / MB).toFixed(0)} MB of text in ${importS.toFixed(2)} s = ${importMBps.toFixed(1)} MB/s (${header.shards} shards)`,
  )

  // The control: a plain hypercore holding exactly the same blocks (header and shards).
  const ds = await store.openLocal(key)
  const raw = store.corestore.get({ name: 'bench/raw-copy' })
  await raw.ready()
  for (let i = 0; i < ds.core.length; i += 16) {
    const blocks: Buffer[] = []
    for (let j = i; j < Math.min(i + 16, ds.core.length); j++) blocks.push((await ds.core.get(j))!)
    await raw.append(blocks)
  }

  const swarm = createSwarm(testnet.bootstrap)
  replicateStore(swarm, store.corestore)
  await joinDataset(swarm, ds.key)
  await joinDataset(swarm, raw.key!)

  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/data-reader.ts'], {
    env: {
      ...process.env,
      BENCH_ARGS: JSON.stringify({
        bootstrap: testnet.bootstrap,
        datasetKey: key,
        rawKey: raw.key!.toString('hex'),
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`reader process exited with ${code}`)
  const result = JSON.parse(out.trim().split('\n').pop()!) as {
    bytes: number
    tandemMs: number
    rawMs: number
    verificationErrors: number
  }
  const replicateMBps = result.bytes / MB / (result.tandemMs / 1000)
  const rawReplicateMBps = result.bytes / MB / (result.rawMs / 1000)
  const ratio = replicateMBps / rawReplicateMBps
  log(`replicate (Tandem dataset, sparse download + hash check): ${replicateMBps.toFixed(1)} MB/s`)
  log(
    `replicate (plain hypercore, same blocks):                 ${rawReplicateMBps.toFixed(1)} MB/s`,
  )
  const meetsTarget = ratio >= TARGET_RATIO
  // Reported, never enforced: throughput on a shared machine is too noisy to fail a run on.
  log(`ratio ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}: ${meetsTarget ? 'met' : 'NOT met'})`)

  await ds.close()
  await raw.close()
  await swarm.destroy()
  await store.close()
  process.stdout.write(
    JSON.stringify({
      importMBps: round(importMBps),
      replicateMBps: round(replicateMBps),
      rawReplicateMBps: round(rawReplicateMBps),
      ratio: round(ratio),
      targetRatio: TARGET_RATIO,
      meetsTarget,
      megabytes: round(SIZE / MB),
      shards: header.shards,
    }) + '\n',
  )
} finally {
  await testnet.destroy()
  await rm(dir, { recursive: true, force: true })
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}
