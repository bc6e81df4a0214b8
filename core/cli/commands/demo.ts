/**
 * `tandem demo`: the local demo network. Today it starts a private DHT on 127.0.0.1 and a handful of
 * Tandem peers that find each other by topic and greet each other over encrypted connections; the
 * training project, contributors and UI join it as those parts land (see README, "Status").
 */
import type { Command } from 'commander'
import { createHash } from 'node:crypto'
import { TandemError } from '../../api/errors.js'
import { createSwarm, startLoopbackTestnet } from '../../net/testnet.js'
import type { CliIO } from '../main.js'

interface DemoOptions {
  peers: string
  once?: boolean
}

export function registerDemo(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description('run the local demo network on 127.0.0.1 (Ctrl-C stops it)')
    .option('--peers <n>', 'how many peers to start', '3')
    .option('--once', 'stop as soon as every peer has met every other')
    .action(async (opts: DemoOptions) => {
      const peers = Number(opts.peers)
      if (!Number.isInteger(peers) || peers < 2 || peers > 16) {
        throw new TandemError('BAD_ARGUMENT', '--peers must be an integer from 2 to 16')
      }
      await runDemo(peers, Boolean(opts.once), io)
    })
}

async function runDemo(count: number, once: boolean, io: CliIO): Promise<void> {
  const started = Date.now()
  const testnet = await startLoopbackTestnet(3)
  io.out(`testnet: private DHT on ${testnet.bootstrap.join(', ')}\n`)
  const topic = createHash('sha256').update('tandem/demo/v1').digest()
  const swarms = Array.from({ length: count }, () => createSwarm(testnet.bootstrap))
  const names = swarms.map((s) => s.keyPair.publicKey.toString('hex').slice(0, 8))
  const met = swarms.map(() => new Set<string>())

  let resolveMesh!: () => void
  const mesh = new Promise<void>((resolve) => (resolveMesh = resolve))
  swarms.forEach((swarm, i) => {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {}) // a peer going away mid-greeting is normal
      conn.write(JSON.stringify({ hello: names[i] }) + '\n')
      conn.once('data', (chunk: Buffer) => {
        let from = '?'
        try {
          from = String(
            (JSON.parse(chunk.toString().split('\n')[0] ?? '') as { hello?: unknown }).hello,
          )
        } catch {
          return
        }
        if (met[i]?.has(from)) return
        met[i]?.add(from)
        io.out(`peer ${names[i]} ← hello from ${from} (${met[i]?.size}/${count - 1})\n`)
        if (met.every((m) => m.size === count - 1)) resolveMesh()
      })
    })
  })
  // Announce one after another: a lookup made before the others have announced finds nobody, and
  // Hyperswarm only refreshes a topic every few minutes.
  for (const swarm of swarms) await swarm.join(topic).flushed()
  await Promise.all(swarms.map((s) => s.flush()))

  const stop = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'))
    process.once('SIGTERM', () => resolve('terminated'))
  })
  const outcome = await Promise.race([mesh.then(() => 'mesh'), stop])
  if (outcome === 'mesh') {
    io.out(`all ${count} peers met each other in ${Date.now() - started} ms\n`)
    if (!once) {
      io.out('demo network running; press Ctrl-C to stop\n')
      await stop
    }
  }
  io.out('stopping…\n')
  await Promise.all(swarms.map((s) => s.destroy()))
  await testnet.destroy()
  io.out('stopped\n')
}
