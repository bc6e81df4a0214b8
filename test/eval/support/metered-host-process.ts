/**
 * A project host alone in its own process, so its memory is its own, for the scale experiment:
 *
 *   node --import tsx test/eval/support/metered-host-process.ts <state dir> <bootstrap> <max peers>
 *
 * The state dir is what prepareHostState (test/support/host-fixtures.ts) writes. Every swarm
 * connection goes through a RateLimiter without caps, which counts the bytes. Prints one JSON line
 * per event: `started`, `offer` (with the time), `round-closed` (with the time, the bytes the node
 * sent and received so far, and process.memoryUsage() plus peak RSS). SIGTERM stops it.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { ProjectHost } from '../../../core/host/host.js'
import { LedgerWriter } from '../../../core/ledger/ledger.js'
import { SwarmNode } from '../../../core/net/swarm-node.js'
import { RateLimiter } from '../../../core/node/rate-limit.js'

const [dir, bootstrap, maxPeers] = process.argv.slice(2)
if (!dir || !bootstrap || !maxPeers) {
  process.stderr.write('usage: metered-host-process.ts <state dir> <bootstrap> <max peers>\n')
  process.exit(2)
}
const say = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`)

const saved = JSON.parse(await readFile(join(dir, 'host.json'), 'utf8')) as {
  publicKey: string
  secretKey: string
  dataset: string
}
const keyPair = {
  publicKey: Buffer.from(saved.publicKey, 'hex'),
  secretKey: Buffer.from(saved.secretKey, 'hex'),
}
const limiter = new RateLimiter()
const store = await DatasetStore.open({ dataDir: dir })
const node = new SwarmNode({
  keyPair,
  bootstrap: [bootstrap],
  roles: ['host'],
  corestore: store.corestore,
  maxPeers: Number(maxPeers),
  refresh: { minMs: 100, emptyMaxMs: 1000, maxMs: 2000 },
  wrapConnection: (conn) => limiter.attach(conn),
})
const ledger = await LedgerWriter.open(store.corestore, keyPair)
const dataset = await store.openLocal(saved.dataset)
const host = new ProjectHost({
  node,
  store: store.corestore,
  keyPair,
  ledger,
  dataset,
  announceEveryMs: 5_000,
  fetchTimeoutMs: 60_000,
})
host.on('offer', (e) => say('offer', { round: e.round, status: e.status }))
host.on('round-closed', (e) => {
  const stats = limiter.stats()
  say('round-closed', {
    round: e.round,
    accepted: e.accepted,
    rejected: e.rejected,
    ms: e.ms,
    bytesUp: stats.bytesUp,
    bytesDown: stats.bytesDown,
    connections: stats.connections,
    ledgerBytes: ledger.core.byteLength,
    ledgerBlocks: ledger.core.length,
    memory: process.memoryUsage(),
    maxRssKiB: process.resourceUsage().maxRSS,
  })
})
host.on('warning', (err) => say('warning', { message: String(err) }))
await host.start()
say('started', {
  project: ledger.key,
  checkpoint: ledger.state.rounds[0]?.checkpoint.contentHash,
  ledgerBytes: ledger.core.byteLength,
  memory: process.memoryUsage(),
})

process.once('SIGTERM', () => {
  void (async () => {
    await host.stop()
    await node.destroy()
    await dataset.close()
    await ledger.close()
    await store.close()
    limiter.close()
    process.exit(0)
  })()
})
