/**
 * Replication faults: a peer whose replicated blocks fail verification is disconnected and banned
 * like one sending bad control messages, although hypercore only pauses it and emits
 * `verification-error` (never a stream error). An honest peer on the same node keeps working.
 */
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import type { Ban } from '../../../core/net/ban-list.js'
import { fullMesh, loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'
import { samples } from '../../support/wire-samples.js'

const PROJECT = Buffer.alloc(32, 1)

async function stores(t: TestContext, n: number): Promise<Corestore[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-repl-'))
  const list = Array.from({ length: n }, (_, i) => new Corestore(join(dir, String(i))))
  t.after(async () => {
    await Promise.all(list.map((s) => s.close()))
    await rm(dir, { recursive: true, force: true })
  })
  return list
}

/** Flips a byte in every block this core sends to `victim` (as test/integration/data does). */
function tamperTowards(core: Hypercore, victim: Buffer): void {
  const tamper = (peer: Hypercore.Peer) => {
    if (!peer.remotePublicKey.equals(victim)) return
    const wire = (peer as unknown as { wireData: { send(m: unknown): void } }).wireData
    const send = wire.send.bind(wire)
    wire.send = (msg) => {
      const m = msg as { block?: { index: number; value: Buffer } | null }
      if (m.block) {
        const value = Buffer.from(m.block.value)
        value[0] = value[0]! ^ 0xff
        m.block = { ...m.block, value }
      }
      send(m)
    }
  }
  for (const peer of core.peers) tamper(peer)
  core.on('peer-add', tamper)
}

describe('replication faults', () => {
  it('a peer serving blocks that fail verification is banned; an honest one keeps working', async (t) => {
    const [badStore, victimStore, goodStore] = (await stores(t, 3)) as [
      Corestore,
      Corestore,
      Corestore,
    ]
    const testnet = await loopbackTestnet(t)
    const bad = testnet.node({ corestore: badStore })
    const victim = testnet.node({ corestore: victimStore })
    const good = testnet.node({ corestore: goodStore })
    const bans: Ban[] = []
    victim.on('ban', (ban) => bans.push(ban))

    const forged = badStore.get({ name: 'updates' })
    const honest = goodStore.get({ name: 'updates' })
    t.after(() => Promise.all([forged.close(), honest.close()]))
    await forged.append([Buffer.from('block 0'), Buffer.from('block 1')])
    await honest.append(Buffer.from('honest block'))
    tamperTowards(forged, victim.key)

    for (const n of [bad, victim, good]) n.joinProject(PROJECT)
    await fullMesh([bad, victim, good], PROJECT)

    const reader = victimStore.get({ key: forged.key! })
    t.after(() => reader.close())
    // The read cannot succeed: the only holder of the block is the one tampering with it.
    const read = reader.get(0, { timeout: 5000 }).catch(() => null)
    await waitUntil(() => bans.some((b) => b.key === bad.key.toString('hex')), 'the ban')
    assert.equal(bans[0]?.code, 'WIRE_BAD_REPLICATION')
    assert.ok(victim.isBanned(bad.key))
    await waitUntil(() => victim.peer(bad.key) === undefined, 'the disconnect')
    assert.ok(victim.status().counters.invalid >= 1)
    assert.equal(await reader.has(0), false, 'the tampered block was not stored')
    await reader.close()
    await read

    // The honest peer still talks and replicates over its connection.
    let offers = 0
    victim.on('message', (_p, m) => void (m.type === 'updateOffer' && offers++))
    good.send(victim.key, 'updateOffer', samples().updateOffer)
    await waitUntil(() => offers === 1, 'the honest offer')
    const fromGood = victimStore.get({ key: honest.key! })
    t.after(() => fromGood.close())
    assert.equal((await fromGood.get(0, { timeout: 5000 }))?.toString(), 'honest block')
    const goodAtVictim = victim.status().peers.find((p) => p.key === good.key.toString('hex'))
    assert.equal(goodAtVictim?.counters.invalid, 0)
    assert.ok(!victim.isBanned(good.key))
  })
})
