/**
 * The host's offer journal and derived update cores: pieces of the crash-safety and authenticity
 * story that are cheaper to pin down alone than through a swarm.
 */
import assert from 'node:assert/strict'
import { appendFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import crypto from 'hypercore-crypto'
import { OfferJournal, type JournalOffer } from '../../../core/host/journal.js'
import { openContributorUpdateCore, updateCoreKey } from '../../../core/ledger/update-core.js'
import { defer, linkStores, plainCorestore, tempDir } from '../../support/data.js'

const offer = (round: number, i: number): JournalOffer => ({
  t: 'offer',
  round,
  contributor: 'a'.repeat(63) + String(i),
  core: 'b'.repeat(64),
  start: i,
  length: 2,
  byteLength: 100,
  hash: 'c'.repeat(63) + String(i),
  samples: 256,
  receivedAt: 1000 + i,
  signatureValid: true,
})

describe('offer journal', () => {
  it('reads back offers and the extension, skips a torn line, prunes closed rounds', async (t) => {
    const dir = await tempDir(t, 'tandem-journal-')
    const j = new OfferJournal(join(dir, 'journal'))
    assert.deepEqual(await j.read(0), { offers: [], deadline: null })
    await j.append(offer(0, 1))
    await j.append({ t: 'extend', round: 0, deadline: 5000 })
    await j.append(offer(0, 2))
    await j.append(offer(1, 3))
    // A crash in the middle of a write leaves a partial line.
    await appendFile(join(dir, 'journal', 'round-0.jsonl'), '{"t":"offer","round":0,"contr')
    const back = await j.read(0)
    assert.deepEqual(back.offers, [offer(0, 1), offer(0, 2)])
    assert.equal(back.deadline, 5000)
    // The restarted host appends after the torn tail: the new line stands on its own.
    await j.append(offer(0, 4))
    assert.deepEqual((await j.read(0)).offers, [offer(0, 1), offer(0, 2), offer(0, 4)])
    await j.prune(1)
    assert.deepEqual(await readdir(join(dir, 'journal')), ['round-1.jsonl'])
    assert.deepEqual((await j.read(1)).offers, [offer(1, 3)])
  })
})

describe('derived update cores', () => {
  it("open as the key anyone computes from contributor and project; another's differ", async (t) => {
    const a = await plainCorestore(t)
    const b = await plainCorestore(t)
    const me = crypto.keyPair()
    const project = crypto.randomBytes(32)
    const core = await openContributorUpdateCore(a, me, project)
    defer(t, () => core.close())
    assert.ok(core.writable)
    assert.ok(core.key!.equals(updateCoreKey(me.publicKey, project)))
    assert.ok(!core.key!.equals(updateCoreKey(me.publicKey, crypto.randomBytes(32))))
    assert.ok(!core.key!.equals(updateCoreKey(crypto.keyPair().publicKey, project)))
    await core.append(Buffer.from('Δ'))
    // Reopening gives the same core; a peer reads it by the computed key.
    const again = await openContributorUpdateCore(a, me, project)
    assert.equal(again.length, 1)
    await again.close()
    linkStores(t, a, b)
    const remote = b.get({ key: updateCoreKey(me.publicKey, project) })
    defer(t, () => remote.close())
    assert.equal((await remote.get(0, { timeout: 5000 }))!.toString(), 'Δ')
  })
})
