/**
 * A project host in its own process: for tests that kill it (kill -9) and start it again, and for
 * the scale experiment, which needs the host's memory to be its own.
 *
 *   node --import tsx test/support/host-process.ts <state dir> <bootstrap host:port>
 *        [--max-peers N] [--fetch-timeout-ms MS] [--metered]
 *
 * The state dir holds `host.json` ({publicKey, secretKey, dataset} in hex, written by
 * prepareHostState in host-fixtures.ts), the node's corestore (ledger and dataset) and the offer
 * journal. Every host event is printed as one JSON line on stdout, with the process id and the time;
 * SIGTERM stops cleanly. `--metered` sends every swarm connection through a RateLimiter without caps,
 * which counts the bytes: `round-closed` then also carries the bytes the node sent and received so
 * far, the ledger's size, process.memoryUsage() and the peak RSS.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { ProjectHost } from '../../core/host/host.js'
import { LedgerWriter } from '../../core/ledger/ledger.js'
import { SwarmNode } from '../../core/net/swarm-node.js'
import { RateLimiter } from '../../core/node/rate-limit.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'max-peers': { type: 'string' },
    'fetch-timeout-ms': { type: 'string', default: '20000' },
    metered: { type: 'boolean', default: false },
  },
})
const [dir, bootstrap] = positionals
if (!dir || !bootstrap) {
  process.stderr.write(
    'usage: host-process.ts <state dir> <bootstrap host:port> [--max-peers N] [--fetch-timeout-ms MS] [--metered]\n',
  )
  process.exit(2)
}
const say = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(
    `${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...fields })}\n`,
  )

const saved = JSON.parse(await readFile(join(dir, 'host.json'), 'utf8')) as {
  publicKey: string
  secretKey: string
  dataset: string
}
const keyPair = {
  publicKey: Buffer.from(saved.publicKey, 'hex'),
  secretKey: Buffer.from(saved.secretKey, 'hex'),
}
const limiter = values.metered ? new RateLimiter() : null
const store = await DatasetStore.open({ dataDir: dir })
const node = new SwarmNode({
  keyPair,
  bootstrap: [bootstrap],
  roles: ['host'],
  corestore: store.corestore,
  refresh: { minMs: 100, emptyMaxMs: 1000, maxMs: 2000 },
  ...(values['max-peers'] ? { maxPeers: Number(values['max-peers']) } : {}),
  ...(limiter ? { wrapConnection: (conn) => limiter.attach(conn) } : {}),
})
const ledger = await LedgerWriter.open(store.corestore, keyPair)
const dataset = await store.openLocal(saved.dataset)
const host = new ProjectHost({
  node,
  store: store.corestore,
  keyPair,
  ledger,
  dataset,
  journalDir: join(dir, 'journal'),
  announceEveryMs: 5_000,
  fetchTimeoutMs: Number(values['fetch-timeout-ms']),
})

/** What `--metered` adds to `round-closed`: traffic so far, ledger size, memory. */
function meters(): Record<string, unknown> {
  if (!limiter) return {}
  const stats = limiter.stats()
  return {
    bytesUp: stats.bytesUp,
    bytesDown: stats.bytesDown,
    connections: stats.connections,
    ledgerBytes: ledger.core.byteLength,
    ledgerBlocks: ledger.core.length,
    memory: process.memoryUsage(),
    maxRssKiB: process.resourceUsage().maxRSS,
  }
}

host.on('round-open', (e) => say('round-open', { ...e }))
host.on('offer', (e) => say('offer', { ...e }))
host.on('round-closed', (e) =>
  say('round-closed', { ...e, contributions: e.contributions.length, ...meters() }),
)
host.on('warning', (err) => say('warning', { message: String(err) }))
await host.start()
say('started', {
  project: ledger.key,
  round: ledger.round,
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
    limiter?.close()
    say('stopped')
    process.exit(0)
  })()
})
