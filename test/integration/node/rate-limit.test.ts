/**
 * Upload and download caps on real swarm connections over a loopback testnet: the measured
 * throughput of a raw stream sits within ±25% of the cap, a live cap change takes effect on the
 * open connection, and a SwarmNode applies the limiter to hypercore replication.
 *
 * Throughput is measured over fixed time windows (that is the measurement, not a wait for an
 * event): half a second to settle, then a window of 2 s.
 */
import Corestore from 'corestore'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import type Hyperswarm from 'hyperswarm'
import { RateLimiter } from '../../../core/node/rate-limit.js'
import { createSwarm } from '../../../core/net/swarm.js'
import { startLoopbackTestnet } from '../../../core/net/testnet.js'
import { fullMesh, loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const KiB = 1024
const TOPIC = Buffer.alloc(32, 7)

/** Two raw swarms on a fresh loopback testnet, connected; `limit` wraps a's or b's connection. */
async function connectedPair(t: TestContext, limit: { side: 'a' | 'b'; limiter: RateLimiter }) {
  const testnet = await startLoopbackTestnet(3)
  const a = createSwarm(testnet.bootstrap)
  const b = createSwarm(testnet.bootstrap)
  t.after(async () => {
    limit.limiter.close()
    await Promise.all([a.destroy(), b.destroy()])
    await testnet.destroy()
  })
  const conns: Partial<Record<'a' | 'b', Hyperswarm.Connection>> = {}
  for (const [side, swarm] of [
    ['a', a],
    ['b', b],
  ] as const) {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      if (side === limit.side) limit.limiter.attach(conn)
      conns[side] ??= conn
    })
  }
  await a.join(TOPIC, { server: true, client: false }).flushed()
  b.join(TOPIC, { server: false, client: true })
  await waitUntil(() => conns.a !== undefined && conns.b !== undefined, 'the connection', 15_000)
  return { sender: conns.a!, receiver: conns.b! }
}

/** Writes as fast as backpressure allows until stopped. */
function pump(stream: Hyperswarm.Connection): () => void {
  let stopped = false
  const chunk = Buffer.alloc(16 * KiB, 0xab)
  const go = () => {
    while (!stopped) {
      if (!stream.write(chunk)) {
        stream.once('drain', go)
        return
      }
    }
  }
  go()
  return () => void (stopped = true)
}

function counter(stream: Hyperswarm.Connection): () => number {
  let bytes = 0
  stream.on('data', (data: Buffer) => (bytes += data.byteLength))
  return () => bytes
}

/** KiB/s received over `windowMs`, after `settleMs`. */
async function measure(received: () => number, settleMs = 500, windowMs = 2000): Promise<number> {
  await delay(settleMs)
  const start = received()
  const t0 = performance.now()
  await delay(windowMs)
  return (received() - start) / KiB / ((performance.now() - t0) / 1000)
}

/** Within ±25% of the cap; `floor` lowers the bound below for paths with overheads of their own. */
function near(measured: number, cap: number, what: string, floor = 0.75) {
  const ratio = measured / cap
  const line = `${what}: ${measured.toFixed(1)} KiB/s for a cap of ${cap} KiB/s (${(ratio * 100).toFixed(0)}%)`
  console.log(`  # ${line}`)
  assert.ok(ratio > floor && ratio < 1.25, line)
}

describe('rate limiter on swarm connections', () => {
  it('caps upload, and a live change applies to the open connection', async (t) => {
    const limiter = new RateLimiter({ uploadKiBps: 256, downloadKiBps: 0 })
    const { sender, receiver } = await connectedPair(t, { side: 'a', limiter })
    const received = counter(receiver)
    const stop = pump(sender)
    t.after(stop)
    near(await measure(received), 256, 'upload')
    limiter.setCaps({ uploadKiBps: 640, downloadKiBps: 0 })
    near(await measure(received), 640, 'upload after raising the cap')
    limiter.setCaps({ uploadKiBps: 128, downloadKiBps: 0 })
    near(await measure(received, 1000), 128, 'upload after lowering the cap')
    assert.ok(limiter.stats().uploadWaits > 0)
  })

  it('caps download through flow control (the sender is not limited)', async (t) => {
    const limiter = new RateLimiter({ uploadKiBps: 0, downloadKiBps: 256 })
    const { sender, receiver } = await connectedPair(t, { side: 'b', limiter })
    const received = counter(receiver)
    const stop = pump(sender)
    t.after(stop)
    near(await measure(received), 256, 'download')
    limiter.setCaps({ uploadKiBps: 0, downloadKiBps: 512 })
    near(await measure(received), 512, 'download after raising the cap')
    // 0 = unlimited: far above the cap on loopback.
    limiter.setCaps({ uploadKiBps: 0, downloadKiBps: 0 })
    const free = await measure(received)
    console.log(`  # download unlimited: ${free.toFixed(0)} KiB/s`)
    assert.ok(free > 2048, `unlimited download only ${free.toFixed(0)} KiB/s`)
  })

  it('a SwarmNode applies the limiter to hypercore replication (wrapConnection)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-rate-'))
    const writerStore = new Corestore(join(dir, 'w'))
    const readerStore = new Corestore(join(dir, 'r'))
    t.after(async () => {
      await Promise.all([writerStore.close(), readerStore.close()])
      await rm(dir, { recursive: true, force: true })
    })
    const limiter = new RateLimiter({ uploadKiBps: 0, downloadKiBps: 512 })
    t.after(() => limiter.close())
    const testnet = await loopbackTestnet(t)
    const writer = testnet.node({ corestore: writerStore })
    const reader = testnet.node({
      corestore: readerStore,
      wrapConnection: (conn) => limiter.attach(conn),
    })
    const core = writerStore.get({ name: 'blocks' })
    t.after(() => core.close())
    const blocks = Array.from({ length: 96 }, (_, i) => Buffer.alloc(16 * KiB, i))
    await core.append(blocks) // 1.5 MiB
    for (const n of [writer, reader]) n.joinProject(TOPIC)
    await fullMesh([writer, reader], TOPIC)
    assert.equal(limiter.stats().connections, 1)

    const copy = readerStore.get({ key: core.key! })
    t.after(() => copy.close())
    await copy.ready()
    const t0 = performance.now()
    await copy.download({ start: 0, end: blocks.length }).done()
    const sec = (performance.now() - t0) / 1000
    // The bucket filled up while the peers met: its saved burst (0.5 s of traffic) goes first.
    const rate = (blocks.length * 16 - 0.5 * 512) / sec
    // Hypercore's own request round trips and verification add to the time on a slow machine.
    near(
      rate,
      512,
      `hypercore replication after the burst (${blocks.length * 16} KiB in ${sec.toFixed(2)} s)`,
      0.6,
    )
    assert.deepEqual(await copy.get(95), blocks[95])
  })
})
