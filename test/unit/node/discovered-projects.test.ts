/**
 * Discovery bookkeeping: announces count only from the manifest's host, `seq` orders each host's
 * own announces, the table is capped with expiry and eviction, and manifests are read a few at a
 * time with a negative cache. A fake clock and a fake manifest reader keep it fast.
 */
import assert from 'node:assert/strict'
import crypto from 'hypercore-crypto'
import { describe, it } from 'node:test'
import {
  DiscoveredProjects,
  type DiscoveryLimits,
  type DiscoveryOptions,
} from '../../../core/node/discovered-projects.js'
import type { Announce } from '../../../core/wire/messages.js'
import { signAnnounce } from '../../../core/wire/signing.js'

type KeyPair = { publicKey: Buffer; secretKey: Buffer }

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function announce(
  project: Buffer,
  host: KeyPair,
  seq: number,
  extra: Partial<Announce> = {},
): Announce {
  return signAnnounce(
    {
      project,
      host: host.publicKey,
      name: 'p',
      dataset: Buffer.alloc(32, 9),
      round: 1,
      contributors: 2,
      open: true,
      seq,
      ...extra,
    },
    host.secretKey,
  )
}

interface PendingRead {
  project: string
  timeoutMs: number
  resolve(host: string): void
  reject(err: Error): void
}

/** A DiscoveredProjects whose manifest reads wait until the test answers them. */
function harness(limits: Partial<DiscoveryLimits> = {}, opts: Partial<DiscoveryOptions> = {}) {
  const clock = { now: 1_000_000 }
  const reads: PendingRead[] = []
  const listed: string[] = []
  const d = new DiscoveredProjects({
    readManifestHost: (project, timeoutMs) =>
      new Promise<string>((resolve, reject) => reads.push({ project, timeoutMs, resolve, reject })),
    now: () => clock.now,
    onListed: (p) => listed.push(p),
    limits,
    ...opts,
  })
  /** Answers the pending read of `project` with `host` (or fails it), then lets it settle. */
  async function answer(project: string, host: string | Error) {
    const i = reads.findIndex((r) => r.project === project)
    assert.ok(i >= 0, `a pending read of ${project.slice(0, 8)}`)
    const [r] = reads.splice(i, 1)
    if (typeof host === 'string') r!.resolve(host)
    else r!.reject(host)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { d, clock, reads, listed, answer }
}

const projectKey = (i: number) => Buffer.alloc(32, i + 1)

describe('discovered projects', () => {
  it('lists a project only once its manifest names the announcing host', async () => {
    const { d, reads, listed, answer } = harness()
    const real = crypto.keyPair() as KeyPair
    const forger = crypto.keyPair() as KeyPair
    const p = projectKey(0)
    assert.ok(d.hear(announce(p, real, 5)))
    assert.ok(d.hear(announce(p, forger, Number.MAX_SAFE_INTEGER, { contributors: 1_000_000 })))
    // Both kept per (project, host) until the manifest is known; nothing listed yet.
    assert.equal(d.entries().length, 2)
    assert.deepEqual(d.keys(), [])
    assert.equal(d.get(hex(p)), undefined)
    assert.equal(reads.length, 1, 'one manifest read per project')
    assert.equal(reads[0]!.timeoutMs, 2_000)

    await answer(hex(p), hex(real.publicKey))
    assert.deepEqual(d.keys(), [hex(p)])
    assert.deepEqual(listed, [hex(p)])
    assert.deepEqual(
      d.entries().map((e) => e.host),
      [hex(real.publicKey)],
    )
    assert.equal(d.get(hex(p))?.contributors, 2)
    assert.equal(d.counters.foreignHost, 1)

    // The forger's later announces are dropped; the real host's next one is taken even though
    // its seq is far below the forged one.
    assert.equal(d.hear(announce(p, forger, Number.MAX_SAFE_INTEGER, { round: 99 })), false)
    assert.equal(d.counters.foreignHost, 2)
    assert.ok(d.hear(announce(p, real, 6, { round: 7 })))
    assert.equal(d.get(hex(p))?.round, 7)
  })

  it('orders seq per host: a forged high seq never blocks another host', () => {
    const { d } = harness()
    const a = crypto.keyPair() as KeyPair
    const b = crypto.keyPair() as KeyPair
    const p = projectKey(0)
    assert.ok(d.hear(announce(p, b, Number.MAX_SAFE_INTEGER)))
    assert.ok(d.hear(announce(p, a, 1)))
    assert.ok(d.hear(announce(p, a, 2)))
    assert.equal(d.hear(announce(p, a, 2)), false, 'a replay of the same seq')
    assert.equal(d.hear(announce(p, a, 1)), false, 'an older seq')
    assert.equal(d.counters.stale, 2)
    assert.equal(d.entries().length, 2)
  })

  it('keeps a few candidate hosts per project, dropping the least recently announced', () => {
    const { d, clock } = harness({ maxHostsPerProject: 2 })
    const p = projectKey(0)
    const hosts = [0, 1, 2].map(() => crypto.keyPair() as KeyPair)
    for (const h of hosts) {
      clock.now += 10
      d.hear(announce(p, h, 1))
    }
    assert.deepEqual(
      d
        .entries()
        .map((e) => e.host)
        .sort(),
      [hex(hosts[1]!.publicKey), hex(hosts[2]!.publicKey)].sort(),
    )
  })

  it('caps projects, evicting the least recently announced unjoined one, unread manifests first', async () => {
    const joined = hex(projectKey(0))
    const { d, clock, answer } = harness(
      { maxProjects: 3, readConcurrency: 1 },
      { isJoined: (p) => p === joined },
    )
    const host = crypto.keyPair() as KeyPair
    d.hear(announce(projectKey(0), host, 1)) // joined, oldest
    await answer(joined, hex(host.publicKey))
    clock.now += 10
    d.hear(announce(projectKey(1), host, 1)) // read: listed
    await answer(hex(projectKey(1)), hex(host.publicKey))
    clock.now += 10
    d.hear(announce(projectKey(2), host, 1)) // unread
    clock.now += 10
    d.hear(announce(projectKey(3), host, 1)) // full: the unread one goes, not the older read one
    assert.deepEqual(
      [...new Set(d.entries().map((e) => e.project))].sort(),
      [joined, hex(projectKey(1)), hex(projectKey(3))].sort(),
    )
    assert.equal(d.counters.evicted, 1)

    // A flood of new keys churns only among themselves.
    for (let i = 4; i < 50; i++) {
      clock.now += 1
      d.hear(announce(projectKey(i), crypto.keyPair() as KeyPair, 1))
    }
    assert.equal(d.size, 3)
    assert.deepEqual(d.keys().sort(), [joined, hex(projectKey(1))].sort())
  })

  it('never evicts joined projects; refuses new ones when all are joined', () => {
    const { d } = harness({ maxProjects: 2 }, { isJoined: () => true })
    const host = crypto.keyPair() as KeyPair
    assert.ok(d.hear(announce(projectKey(0), host, 1)))
    assert.ok(d.hear(announce(projectKey(1), host, 1)))
    assert.equal(d.hear(announce(projectKey(2), host, 1)), false)
    assert.equal(d.counters.full, 1)
    assert.equal(d.size, 2)
  })

  it('forgets entries not announced again within the ttl', async () => {
    const { d, clock, answer } = harness({ ttlMs: 60_000 })
    const host = crypto.keyPair() as KeyPair
    const p = projectKey(0)
    d.hear(announce(p, host, 1))
    await answer(hex(p), hex(host.publicKey))
    clock.now += 59_000
    assert.ok(d.hear(announce(p, host, 2)))
    clock.now += 59_000
    assert.deepEqual(d.keys(), [hex(p)], 'kept alive by the second announce')
    clock.now += 1_000
    assert.deepEqual(d.keys(), [])
    assert.equal(d.size, 0)
    assert.equal(d.get(hex(p)), undefined)
    assert.ok(d.counters.expired >= 1)
  })

  it('reads a few manifests at a time', async () => {
    const { d, reads } = harness({ readConcurrency: 2 })
    for (let i = 0; i < 6; i++) d.hear(announce(projectKey(i), crypto.keyPair() as KeyPair, 1))
    // As reads fail, the waiting ones start, never more than two at once.
    let seen = 0
    while (reads.length > 0) {
      assert.ok(reads.length <= 2)
      seen += reads.length
      for (const r of reads.splice(0)) r.reject(new Error('unreachable'))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await d.idle()
    assert.equal(seen, 6)
    assert.equal(d.counters.manifestsUnreadable, 6)
  })

  it('reads announces heard from their host first, then the newest', async () => {
    const { d, reads, clock, answer } = harness({ readConcurrency: 1 })
    const hosts = [0, 1, 2, 3].map(() => crypto.keyPair() as KeyPair)
    hosts.forEach((h, i) => {
      clock.now += 1
      d.hear(announce(projectKey(i), h, 1), i === 1 ? hex(h.publicKey) : 'some relay')
    })
    const order = [reads[0]!.project]
    while (reads.length > 0) {
      await answer(reads[0]!.project, new Error('unreachable'))
      if (reads[0]) order.push(reads[0].project)
    }
    // Project 0 took the free slot at once; then 1 (straight from its host), then newest first.
    assert.deepEqual(
      order,
      [0, 1, 3, 2].map((i) => hex(projectKey(i))),
    )
  })

  it('does not retry an unreadable manifest until the negative cache expires', async () => {
    const { d, reads, clock, answer } = harness({ retryAfterMs: 30_000 })
    const host = crypto.keyPair() as KeyPair
    const p = projectKey(0)
    d.hear(announce(p, host, 1))
    await answer(hex(p), new Error('timed out'))
    d.hear(announce(p, host, 2))
    assert.equal(reads.length, 0, 'not retried within retryAfterMs')
    clock.now += 30_000
    d.hear(announce(p, host, 3))
    assert.equal(reads.length, 1, 'retried afterwards')
    await answer(hex(p), hex(host.publicKey))
    assert.deepEqual(d.keys(), [hex(p)])
  })

  it('drops the result of a read whose entry was evicted meanwhile', async () => {
    const { d, clock, answer } = harness({ maxProjects: 1 })
    const host = crypto.keyPair() as KeyPair
    d.hear(announce(projectKey(0), host, 1))
    clock.now += 1
    d.hear(announce(projectKey(1), host, 1))
    await answer(hex(projectKey(0)), hex(host.publicKey))
    assert.deepEqual(d.keys(), [])
    await answer(hex(projectKey(1)), hex(host.publicKey))
    assert.deepEqual(d.keys(), [hex(projectKey(1))])
  })
})
