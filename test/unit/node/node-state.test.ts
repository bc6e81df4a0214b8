/**
 * The node's state file: a corrupt file is set aside and the node starts empty, receipts and loss
 * points are capped, flush() writes every change made so far (coalesced or not), and a failed write
 * neither loses the change nor wedges later writes (nor rejects unhandled).
 */
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { LossPoint, ReceiptView } from '../../../core/api/contract.js'
import {
  MAX_LOSS_POINTS,
  MAX_RECEIPTS,
  NodeStateFile,
  NodeStateStore,
  emptyNodeState,
} from '../../../core/node/node-state.js'
import { tempDir } from '../../support/data.js'

const KEY = 'ab'.repeat(32)

function receipt(round: number): ReceiptView {
  return {
    project: KEY,
    projectName: 'p',
    round,
    closedAt: 1_700_000_000_000 + round,
    updateHash: 'cd'.repeat(32),
    accepted: true,
    reason: null,
    samples: 256,
    quality: 0.5,
    credits: 1.5,
    lossBefore: 1,
    lossAfter: 0.9,
  }
}

function loss(step: number): LossPoint {
  return { t: 1_700_000_000_000 + step, project: KEY, round: 0, step, loss: 1, kind: 'train' }
}

async function fileState(dir: string): Promise<NodeStateFile> {
  return NodeStateFile.parse(JSON.parse(await readFile(join(dir, 'node-state.json'), 'utf8')))
}

describe('node state file', () => {
  it('starts empty without a file, and reopens what was flushed', async (t) => {
    const dir = await tempDir(t)
    const a = await NodeStateStore.open(dir)
    assert.deepEqual(a.get(), emptyNodeState())
    assert.equal(a.recovered, null)
    a.update((s) => {
      s.projects.push({ key: KEY, share: 3, paused: false, joinedAt: 5 })
      s.userPaused = true
    })
    await a.flush()
    const b = await NodeStateStore.open(dir)
    assert.equal(b.recovered, null)
    assert.deepEqual(b.get(), a.get())
  })

  it('sets a corrupt file aside and starts from empty state', async (t) => {
    const dir = await tempDir(t)
    for (const bad of ['{"version": 1, "projects": [', JSON.stringify({ version: 9 })]) {
      await writeFile(join(dir, 'node-state.json'), bad)
      const store = await NodeStateStore.open(dir)
      assert.equal(store.recovered?.code, 'STATE_CORRUPT')
      assert.match(store.recovered!.message, /moved aside to .*node-state\.json\.corrupt-\d+/)
      assert.deepEqual(store.get(), emptyNodeState())
    }
    const names = await readdir(dir)
    const aside = names.filter((n) => n.startsWith('node-state.json.corrupt-'))
    assert.equal(aside.length, 2, names.join(', '))
    assert.ok(!names.includes('node-state.json'), 'the corrupt file was moved, not kept in place')
    const kept = await Promise.all(aside.map((n) => readFile(join(dir, n), 'utf8')))
    assert.ok(kept.includes('{"version": 1, "projects": ['), 'the bytes are kept for inspection')
  })

  it('caps receipts and loss points, keeping the newest', async (t) => {
    const dir = await tempDir(t)
    const store = await NodeStateStore.open(dir)
    store.update((s) => {
      for (let i = 0; i < MAX_RECEIPTS + 10; i++) s.receipts.push(receipt(i))
      for (let i = 0; i < MAX_LOSS_POINTS + 25; i++) s.loss.push(loss(i))
    })
    assert.equal(store.get().receipts.length, MAX_RECEIPTS)
    assert.equal(store.get().receipts[0]!.round, 10)
    assert.equal(store.get().receipts.at(-1)!.round, MAX_RECEIPTS + 9)
    assert.equal(store.get().loss.length, MAX_LOSS_POINTS)
    assert.equal(store.get().loss[0]!.step, 25)
    await store.flush()
    // What was written passes the schema's own caps (the next start can read it).
    const onDisk = await fileState(dir)
    assert.equal(onDisk.receipts.length, MAX_RECEIPTS)
    assert.equal(onDisk.loss.length, MAX_LOSS_POINTS)
  })

  it('flush() writes every change so far: coalesced, immediate and during a write', async (t) => {
    const dir = await tempDir(t)
    const store = await NodeStateStore.open(dir)
    // A long coalescing delay: only flush() can have written these.
    store.update((s) => void s.receipts.push(receipt(0)), 60_000)
    store.update((s) => void s.loss.push(loss(1)), 60_000)
    await store.flush()
    assert.deepEqual(await fileState(dir), store.get())

    // An immediate write in flight, then more changes before it finishes.
    store.update((s) => void (s.userPaused = true), 0)
    store.update((s) => void s.receipts.push(receipt(1)), 60_000)
    store.update((s) => void s.projects.push({ key: KEY, share: 1, paused: true, joinedAt: 1 }))
    await store.flush()
    const onDisk = await fileState(dir)
    assert.deepEqual(onDisk, store.get())
    assert.equal(onDisk.userPaused, true)
    assert.equal(onDisk.receipts.length, 2)
    assert.equal(onDisk.projects.length, 1)
    // No temp files left behind.
    assert.deepEqual(await readdir(dir), ['node-state.json'])
  })

  it('a failed write keeps the change pending and later writes still happen', async (t) => {
    const dir = await tempDir(t)
    const store = await NodeStateStore.open(dir)
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown) => unhandled.push(err)
    process.on('unhandledRejection', onUnhandled)
    t.after(() => void process.off('unhandledRejection', onUnhandled))

    // A directory where the file should go: the rename over it fails.
    await mkdir(join(dir, 'node-state.json', 'blocker'), { recursive: true })
    store.update((s) => void (s.userPaused = true), 0)
    await assert.rejects(store.flush(), { code: 'STATE_IO' })
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(unhandled, [], 'an immediate write that fails must not reject unhandled')

    await rm(join(dir, 'node-state.json'), { recursive: true })
    store.update((s) => void s.receipts.push(receipt(7)), 60_000)
    await store.flush()
    const onDisk = await fileState(dir)
    assert.equal(onDisk.userPaused, true, 'the change from the failed write was written later')
    assert.equal(onDisk.receipts[0]?.round, 7)
  })

  it('records the node’s changes: membership with its scheduler usage, receipts once each', async (t) => {
    const dir = await tempDir(t)
    const store = await NodeStateStore.open(dir)
    const other = 'ef'.repeat(32)
    store.addProject({ key: KEY, share: 3, paused: false, joinedAt: 5 })
    store.addProject({ key: other, share: 1, paused: false, joinedAt: 6 })
    assert.deepEqual(store.setProject(KEY, { paused: true }), {
      key: KEY,
      share: 3,
      paused: true,
      joinedAt: 5,
    })
    assert.equal(store.setProject('00'.repeat(32), { share: 2 }), null)
    const used = { used: 10, active: true, lifetime: 10 }
    store.setScheduler({ version: 1, projects: { [KEY]: used, [other]: used } })
    store.removeProject(other)
    assert.deepEqual(
      store.get().projects.map((p) => p.key),
      [KEY],
    )
    assert.deepEqual(Object.keys(store.get().scheduler.projects), [KEY], 'usage forgotten')

    // A receipt is kept once, with its validation loss; a receipt without one adds no point.
    assert.deepEqual(store.addReceipt(receipt(0)), {
      loss: {
        t: receipt(0).closedAt,
        project: KEY,
        round: 0,
        step: 0,
        loss: 1,
        kind: 'validation',
      },
    })
    assert.equal(store.addReceipt({ ...receipt(0), credits: 99 }), null, 'kept already')
    assert.deepEqual(store.addReceipt({ ...receipt(1), lossBefore: null }), { loss: null })
    assert.deepEqual(
      store.get().receipts.map((r) => [r.round, r.credits]),
      [
        [0, 1.5],
        [1, 1.5],
      ],
    )
    assert.equal(store.get().loss.length, 1)
    store.setUserPaused(true)
    await store.flush()
    const onDisk = await fileState(dir)
    assert.equal(onDisk.userPaused, true)
    assert.equal(onDisk.receipts.length, 2)
    assert.equal(onDisk.projects[0]!.paused, true)
  })
})
