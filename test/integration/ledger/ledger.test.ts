import assert from 'node:assert/strict'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  checkpointByteLength,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../../core/engine/checkpoint.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import {
  CHUNK_BYTES,
  checkpointBlocks,
  encodeCheckpointHeader,
  encodeChunk,
  encodeReceipt,
  MAX_CHECKPOINT_BYTES,
  encodeRoundOpen,
  outerStateBlocks,
} from '../../../core/ledger/entries.js'
import { createProject, LedgerWriter } from '../../../core/ledger/ledger.js'
import { createManifest, parseProjectSpec } from '../../../core/ledger/manifest.js'
import { readCheckpoint, readLedger, readOuterState } from '../../../core/ledger/reader.js'
import { contributionCredits } from '../../../core/ledger/receipts.js'
import { replayStanding } from '../../../core/ledger/standing.js'
import { tempDir } from '../../support/data.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const h = (c: string) => c.repeat(64)
const projectSpec = () => parseProjectSpec(tinyProjectInput({ seed: 7 }))

async function store(t: TestContext, dir?: string): Promise<Corestore> {
  const s = new Corestore(join(dir ?? (await tempDir(t, 'tandem-ledger-')), 'store'))
  await s.ready()
  return s
}

function contribution(manifest: ReturnType<typeof createManifest>, who: string, quality: number) {
  const c = {
    contributor: h(who),
    updateCore: h('d'),
    updateIndex: 0,
    updateHash: h(who === 'c' ? '1' : '2'),
    samples: 32,
    score: { lossBefore: 1.1, lossAfter: 1.0, cosine: 0.9, normRatio: 1 },
    quality,
    accepted: true,
  }
  return { ...c, credits: contributionCredits(manifest, c) }
}

describe('project ledger', () => {
  it('creates a project whose checkpoint 0 verifies and equals the initial weights', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const host = crypto.keyPair()
    const key = await createProject(s, projectSpec(), host, 1000)
    const core = s.get({ key: Buffer.from(key, 'hex') })
    t.after(() => core.close())
    const state = await readLedger(core)
    assert.equal(state.manifest.host, host.publicKey.toString('hex'))
    assert.equal(state.rounds.length, 1)
    const ck = await readCheckpoint(core, state, 0)
    assert.deepEqual(ck.weights, initialWeights(state.manifest.model, 7))
    await assert.rejects(createProject(s, projectSpec(), host), { code: 'WRONG_STATE' })
    await assert.rejects(readCheckpoint(core, state, 1), { code: 'NOT_FOUND' })
    await assert.rejects(readOuterState(core, state, 1), { code: 'NOT_FOUND' })
  })

  it('appends rounds, re-reads them after a restart, and never closes a round twice', async (t) => {
    const dir = await tempDir(t, 'tandem-ledger-')
    const host = crypto.keyPair()
    let s = await store(t, dir)
    await createProject(s, projectSpec(), host, 1000)
    let w = await LedgerWriter.open(s, host)
    const manifest = w.manifest
    const receipts = []
    for (let r = 0; r < 3; r++) {
      await w.openRound({ openedAt: 2000 + r, deadline: 9000 + r, assignmentSeed: h('5') })
      const next = (await w.weights()).map((x) => x * 0.5)
      const receipt = {
        closedAt: 10_000 + r * 3_600_000,
        rule: 'centered-clip',
        contributions: [contribution(manifest, 'c', 0.8), contribution(manifest, 'e', 0.3)],
      }
      receipts.push(receipt)
      const momentum = (await w.momentum()).map((x, i) => x + r + 1 + i * 1e-3)
      await w.closeRound(receipt, next, momentum)
    }
    await assert.rejects(w.closeRound(receipts[0]!, await w.weights(), await w.momentum()), {
      code: 'LEDGER_OUT_OF_ORDER',
    })
    await w.close()
    await s.close()

    s = await store(t, dir)
    t.after(() => s.close())
    w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    assert.equal(w.round, 3)
    const state = w.state
    assert.equal(state.rounds.filter((r) => r.receipt).length, 3)
    const ck3 = await readCheckpoint(w.core, state, 3)
    const ck0 = await readCheckpoint(w.core, state, 0)
    assert.deepEqual(
      ck3.weights,
      ck0.weights.map((x) => x * 0.125),
    )
    assert.equal(state.rounds[2]!.receipt!.checkpointOut, ck3.contentHash)
    // Momentum r = Σ_{k ≤ r} (k + i·1e-3) as written above, read back exactly; round 0 is zeros.
    const m0 = await readOuterState(w.core, state, 0)
    assert.ok(m0.length === ck0.weights.length && m0.every((x) => x === 0))
    assert.equal(state.rounds[0]!.outerState, undefined)
    let expected = new Float32Array(m0.length)
    for (let r = 1; r <= 3; r++) {
      expected = expected.map((x, i) => x + r + i * 1e-3)
      assert.deepEqual(await w.momentum(r), expected)
      assert.equal(state.rounds[r]!.outerState!.round, r)
    }

    const table = replayStanding(
      manifest,
      state.rounds.flatMap((r) => (r.receipt ? [r.receipt] : [])),
    )
    const sum = receipts.flatMap((r) => r.contributions).filter((c) => c.contributor === h('c'))
    assert.equal(
      table.get(h('c'))!.credits,
      sum.reduce((n, c) => n + c.credits, 0),
    )
    assert.ok(
      table.get(h('c'))!.credits > 0 &&
        table.get(h('c'))!.reputation > table.get(h('e'))!.reputation,
    )

    const bad = {
      ...receipts[0]!,
      contributions: [{ ...receipts[0]!.contributions[0]!, credits: 99 }],
    }
    await w.openRound({ openedAt: 1, deadline: 2, assignmentSeed: h('5') })
    await assert.rejects(w.closeRound(bad, await w.weights(), await w.momentum()), {
      code: 'LEDGER_CREDIT_MISMATCH',
    })
  })

  it('truncates a torn tail on reopen and carries on', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const host = crypto.keyPair()
    await createProject(s, projectSpec(), host)
    const raw = s.get({ keyPair: host })
    await raw.ready()
    const length = raw.length
    const ck0 = (await readLedger(raw)).rounds[0]!.checkpoint.contentHash
    const file = encodeCheckpoint(projectSpec().model, 1, initialWeights(projectSpec().model, 1))
    await raw.append(
      encodeRoundOpen({
        round: 0,
        openedAt: 1,
        deadline: 2,
        checkpointHash: ck0,
        assignmentSeed: h('5'),
      }),
    )
    // Receipt and header without chunks, in batches of their own, as no Tandem host writes them.
    await raw.append(
      encodeReceipt({
        round: 0,
        closedAt: 3,
        checkpointIn: ck0,
        checkpointOut: h('7'),
        rule: 'mean',
        contributions: [],
      }),
    )
    await raw.append(checkpointBlocks(1, file, h('7'))[0]!)
    const torn = await readLedger(raw)
    assert.deepEqual(torn.tornTail, { index: length + 1, why: 'checkpoint chunks are missing' })
    assert.equal(torn.rounds[0]!.receipt, undefined)
    await raw.close()
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    assert.equal(w.core.length, length + 1)
    assert.equal(w.state.tornTail, null)
    assert.ok(w.state.rounds[0]!.open)
  })

  it('treats a checkpoint without its outer-state as a torn tail', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const host = crypto.keyPair()
    const spec = projectSpec()
    await createProject(s, spec, host)
    const raw = s.get({ keyPair: host })
    await raw.ready()
    const ck0 = (await readLedger(raw)).rounds[0]!.checkpoint.contentHash
    const weights = initialWeights(spec.model, 1)
    const file = encodeCheckpoint(spec.model, 1, weights)
    const ck1 = decodeCheckpoint(file)
    await raw.append(
      encodeRoundOpen({
        round: 0,
        openedAt: 1,
        deadline: 2,
        checkpointHash: ck0,
        assignmentSeed: h('5'),
      }),
    )
    const complete = raw.length
    const receipt = encodeReceipt({
      round: 0,
      closedAt: 3,
      checkpointIn: ck0,
      checkpointOut: ck1.contentHash,
      rule: 'mean',
      contributions: [],
    })
    // Receipt and checkpoint 1 without the outer-state: not what closeRound writes.
    await raw.append([receipt, ...checkpointBlocks(1, file, ck1.contentHash)])
    let torn = await readLedger(raw)
    assert.deepEqual(torn.tornTail, { index: complete, why: 'outer-state is missing' })
    assert.equal(torn.rounds.length, 1)
    // Its header without its chunks is torn too.
    const momentum = encodeCheckpoint(spec.model, 1, new Float32Array(weights.length))
    await raw.append(outerStateBlocks(1, momentum, h('8'))[0]!)
    torn = await readLedger(raw)
    assert.deepEqual(torn.tornTail, { index: complete, why: 'outer-state chunks are missing' })
    await raw.close()
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    assert.equal(w.core.length, complete)
    assert.equal(w.round, 0)
    assert.ok(w.state.rounds[0]!.open)
  })

  it('refuses a checkpoint followed by something other than its outer-state', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const spec = projectSpec()
    const host = crypto.keyPair()
    await createProject(s, spec, host)
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    await w.openRound({ openedAt: 1, deadline: 2, assignmentSeed: h('5') })
    const ck0 = w.state.rounds[0]!.checkpoint.contentHash
    const file = encodeCheckpoint(spec.model, 1, await w.weights())
    const ck1 = decodeCheckpoint(file)
    await w.core.append([
      encodeReceipt({
        round: 0,
        closedAt: 3,
        checkpointIn: ck0,
        checkpointOut: ck1.contentHash,
        rule: 'mean',
        contributions: [],
      }),
      ...checkpointBlocks(1, file, ck1.contentHash),
      encodeRoundOpen({
        round: 1,
        openedAt: 4,
        deadline: 5,
        checkpointHash: ck1.contentHash,
        assignmentSeed: h('5'),
      }),
    ])
    await assert.rejects(readLedger(w.core), { code: 'LEDGER_CORRUPT' })
  })

  it('names a tampered checkpoint written by a malicious host', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const spec = projectSpec()
    const manifest = createManifest(spec, h('c'))
    const file = encodeCheckpoint(spec.model, 0, initialWeights(spec.model, 7))
    const evil = s.get({ keyPair: crypto.keyPair() })
    t.after(() => evil.close())
    const tampered = Buffer.from(file)
    tampered[100] = (tampered[100]! + 1) & 0xff
    await evil.append([
      Buffer.from(JSON.stringify(manifest)),
      ...checkpointBlocks(0, tampered, h('7')),
    ])
    const state = await readLedger(evil)
    await assert.rejects(readCheckpoint(evil, state, 0), { code: 'LEDGER_CHECKPOINT_MISMATCH' })
  })

  it('refuses a checkpoint header whose size is not the model’s before fetching any chunk', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const spec = projectSpec()
    const manifest = createManifest(spec, h('c'))
    const evil = s.get({ keyPair: crypto.keyPair() })
    t.after(() => evil.close())
    // A malicious host declares 4 GiB: 4096 chunk blocks (kept tiny here) would all be buffered.
    const byteLength = MAX_CHECKPOINT_BYTES
    const chunkCount = Math.ceil(byteLength / CHUNK_BYTES)
    await evil.append([
      Buffer.from(JSON.stringify(manifest)),
      encodeCheckpointHeader({ round: 0, contentHash: h('7'), byteLength, chunkCount }),
      ...Array.from({ length: chunkCount }, () => encodeChunk(Buffer.alloc(1))),
    ])
    const state = await readLedger(evil)
    const fetched: number[] = []
    const get = evil.get.bind(evil)
    evil.get = ((index: number, opts?: unknown) => {
      fetched.push(index)
      return get(index, opts as never)
    }) as typeof evil.get
    await assert.rejects(readCheckpoint(evil, state, 0), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LEDGER_CHECKPOINT_MISMATCH')
      assert.match(err.message, /declares 4294967296 bytes, the model's file is \d+/)
      return true
    })
    assert.deepEqual(fetched, [], 'no chunk was fetched')
    // The exact size is what an honest host writes.
    const file = encodeCheckpoint(spec.model, 0, initialWeights(spec.model, 7))
    assert.equal(file.byteLength, checkpointByteLength(spec.model))
  })

  it('refuses entries out of order', async (t) => {
    const s = await store(t)
    t.after(() => s.close())
    const spec = projectSpec()
    const file = encodeCheckpoint(spec.model, 1, initialWeights(spec.model, 7))
    const core = s.get({ keyPair: crypto.keyPair() })
    t.after(() => core.close())
    await core.append([
      Buffer.from(JSON.stringify(createManifest(spec, h('c')))),
      ...checkpointBlocks(1, file, h('7')),
    ])
    await assert.rejects(readLedger(core), { code: 'LEDGER_CORRUPT' })
  })
})
