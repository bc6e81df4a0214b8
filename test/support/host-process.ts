/**
 * A project host in its own process, for tests that kill it (kill -9) and start it again:
 *
 *   node --import tsx test/support/host-process.ts <state dir> <bootstrap host:port>
 *
 * The state dir holds `host.json` ({publicKey, secretKey, dataset} in hex, written by
 * prepareHostState in host-fixtures.ts), the node's corestore (ledger and dataset) and the offer
 * journal. Every host event is printed as one JSON line on stdout; SIGTERM stops cleanly.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { ProjectHost } from '../../core/host/host.js'
import { LedgerWriter } from '../../core/ledger/ledger.js'
import { SwarmNode } from '../../core/net/swarm-node.js'

const [dir, bootstrap] = process.argv.slice(2)
if (!dir || !bootstrap) {
  process.stderr.write('usage: host-process.ts <state dir> <bootstrap host:port>\n')
  process.exit(2)
}
const say = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...fields })}\n`)

const saved = JSON.parse(await readFile(join(dir, 'host.json'), 'utf8')) as {
  publicKey: string
  secretKey: string
  dataset: string
}
const keyPair = {
  publicKey: Buffer.from(saved.publicKey, 'hex'),
  secretKey: Buffer.from(saved.secretKey, 'hex'),
}
const store = await DatasetStore.open({ dataDir: dir })
const node = new SwarmNode({
  keyPair,
  bootstrap: [bootstrap],
  roles: ['host'],
  corestore: store.corestore,
  refresh: { minMs: 100, emptyMaxMs: 1000, maxMs: 2000 },
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
  fetchTimeoutMs: 20_000,
})
host.on('round-open', (e) => say('round-open', { ...e }))
host.on('offer', (e) => say('offer', { ...e }))
host.on('round-closed', (e) => say('round-closed', { ...e, contributions: e.contributions.length }))
host.on('warning', (err) => say('warning', { message: String(err) }))
await host.start()
say('started', { project: ledger.key, round: ledger.round })

process.once('SIGTERM', () => {
  void (async () => {
    await host.stop()
    await node.destroy()
    await dataset.close()
    await ledger.close()
    await store.close()
    say('stopped')
    process.exit(0)
  })()
})
