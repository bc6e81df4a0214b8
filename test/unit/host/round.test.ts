import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { encode } from '../../../core/engine/compress/codec.js'
import { quantizeInt8 } from '../../../core/engine/compress/quantize.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import { nesterovOuterStep } from '../../../core/engine/optim/nesterov.js'
import { baseline, lossChange } from '../../../core/host/scoring.js'
import {
  computeRound,
  roundHistory,
  type RoundCandidate,
  type RoundInput,
} from '../../../core/host/round.js'
import { scoreVerdict } from '../../../core/host/verdicts.js'
import { encodeReceipt, type Receipt } from '../../../core/ledger/entries.js'
import { createManifest, parseProjectSpec, type Manifest } from '../../../core/ledger/manifest.js'
import type { LedgerState } from '../../../core/ledger/reader.js'
import { checkReceiptCredits, contributionCredits } from '../../../core/ledger/receipts.js'
import { innerJob, syntheticBatch, syntheticData } from '../../support/engine-fixtures.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const h = (c: string) => c.repeat(64)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const f32 = (x: Float32Array) => encode({ method: 'f32', n: x.length, values: x })

function manifestFor(rule = 'centered-clip', scoring?: string): Manifest {
  return createManifest(
    parseProjectSpec(
      tinyProjectInput({ seed: 3, aggregation: { rule, ...(scoring ? { scoring } : {}) } }),
    ),
    h('a'),
    1000,
  )
}

const manifest = manifestFor()
const spec = manifest.model
const weights = initialWeights(spec, 3)
const validation = syntheticBatch(spec, 128, 999)
const SAMPLES = 32
let honest: Float32Array[] = []

function candidate(i: number, encoded: Uint8Array | null, over: Partial<RoundCandidate> = {}) {
  return {
    contributor: h(i.toString(16).slice(-1)).slice(0, 62) + i.toString(16).padStart(2, '0'),
    updateCore: h('d').slice(0, 62) + i.toString(16).padStart(2, '0'),
    updateIndex: 2 * i,
    updateHash: encoded ? sha(encoded) : h('0').slice(0, 62) + i.toString(16).padStart(2, '0'),
    samples: SAMPLES,
    encoded,
    receivedAt: 50,
    signatureValid: true,
    ...over,
  } satisfies RoundCandidate
}

function input(candidates: RoundCandidate[], over: Partial<RoundInput> = {}): RoundInput {
  return {
    manifest,
    round: 0,
    weights,
    momentum: null,
    candidates,
    seenBefore: new Set(),
    reputation: new Map(),
    validation,
    deadline: 100,
    closedAt: 200,
    ...over,
  }
}

describe('computeRound', () => {
  before(async () => {
    await selectBackend('cpu')
    // Five honest updates: real inner loops on different data from checkpoint r.
    for (let k = 0; k < 5; k++) {
      const job = { ...innerJob(spec, 12), weights }
      const data = syntheticData(spec, 16, 10 + k)
      honest.push((await runInnerLoop(job, { nextBatch: () => data.next() })).delta)
    }
    honest = honest.map((d) => Float32Array.from(d))
  })

  it('rejects each kind of bad update with its reason and credits the rest by the rule', async () => {
    const enc = honest.map(f32)
    const overflow = quantizeInt8(honest[0]!)
    overflow.scales[0] = 3e38 // × 127 is beyond float32: finite bytes, infinite values
    const corrupt = Uint8Array.from(enc[1]!.subarray(0, enc[1]!.length - 4))
    const cands: RoundCandidate[] = [
      candidate(0, enc[0]!),
      candidate(1, enc[1]!),
      candidate(2, enc[2]!),
      candidate(3, enc[3]!),
      candidate(4, enc[4]!),
      candidate(5, enc[0]!), // same bytes as #0: duplicate hash
      candidate(6, f32(honest[1]!.map((x) => x * 0.9)), {
        contributor: candidate(2, null).contributor,
      }),
      candidate(7, f32(honest[2]!.map((x) => x * 1.01))), // hash in an earlier receipt
      candidate(8, f32(honest[3]!.map((x) => x * 1.02)), { signatureValid: false }),
      candidate(9, f32(honest[4]!.map((x) => x * 1.03)), { receivedAt: 101 }),
      candidate(10, null),
      candidate(11, corrupt),
      candidate(12, f32(new Float32Array(7))),
      candidate(13, encode(overflow)),
      candidate(14, f32(honest[0]!.map((x) => x * 40))),
      candidate(15, f32(honest[1]!.map((x) => x * -6))),
    ]
    const seenBefore = new Set([cands[7]!.updateHash])
    const reputation = new Map([[cands[0]!.contributor, 0.9]])
    const out = await computeRound(input(cands, { seenBefore, reputation }))
    const reasons = out.receipt.contributions.map((c) => c.reason ?? null)
    assert.deepEqual(reasons, [
      null,
      null,
      null,
      null,
      null,
      'duplicate',
      'duplicate',
      'replayed',
      'bad-signature',
      'late',
      'wrong-shape',
      'wrong-shape',
      'wrong-shape',
      'non-finite',
      'norm-outlier',
      'harmful',
    ])
    // Arrival times and the deadline are recorded, so 'late' can be checked against them.
    assert.equal(out.receipt.deadline, 100)
    assert.deepEqual(
      out.receipt.contributions.map((c) => c.receivedAt),
      cands.map((c) => c.receivedAt),
    )
    assert.ok(out.receipt.contributions[9]!.receivedAt! > out.receipt.deadline!)
    const harmful = out.receipt.contributions[15]!
    assert.ok(harmful.score && harmful.score.lossAfter > harmful.score.lossBefore * 1.1)
    for (const c of out.receipt.contributions) {
      assert.equal(c.credits, contributionCredits(manifest, c))
      assert.equal(c.accepted, c.reason === undefined)
      if (!c.accepted) assert.equal(c.credits, 0)
      else {
        assert.ok(c.score && c.quality > 0 && c.credits > 0, JSON.stringify(c))
        assert.ok(c.score.lossAfter < c.score.lossBefore, 'an honest update helps on its own')
      }
    }
    assert.deepEqual(
      out.receipt.contributions.map((c) => [c.contributor, c.updateCore, c.updateIndex, c.samples]),
      cands.map((c) => [c.contributor, c.updateCore, c.updateIndex, c.samples]),
    )
    assert.equal(out.receipt.rule, 'centered-clip')
    assert.equal(out.receipt.closedAt, 200)
    // What the writer would append and check.
    const receipt: Receipt = {
      v: 1,
      ...out.receipt,
      round: 0,
      checkpointIn: h('1'),
      checkpointOut: h('2'),
    }
    checkReceiptCredits(manifest, receipt)
    encodeReceipt(receipt)
    // The outer step was taken from zero momentum with this round's aggregate.
    const step = nesterovOuterStep(weights, out.aggregate!, null, manifest.recipe.outer)
    assert.deepEqual(out.weights, step.weights)
    assert.deepEqual(out.momentum, step.momentum)
    assert.ok(out.lossAfter < out.lossBefore, `${out.lossAfter} < ${out.lossBefore}`)
  })

  it('is deterministic: the same input gives bit-identical output', async () => {
    const momentum = honest[4]!.map((x) => x * 0.3)
    const cands = honest.map((d, i) => candidate(i, encode(quantizeInt8(d))))
    cands.push(candidate(9, f32(honest[0]!.map((x) => -8 * x))))
    const a = await computeRound(input(cands, { momentum }))
    const b = await computeRound(input(cands, { momentum }))
    assert.deepEqual(a.receipt, b.receipt)
    for (const k of ['weights', 'momentum', 'aggregate'] as const)
      assert.ok(Buffer.from(a[k]!.buffer).equals(Buffer.from(b[k]!.buffer)), k)
    assert.equal(a.lossAfter, b.lossAfter)
    assert.notDeepEqual(a.weights, weights)
  })

  it('keeps weights and momentum when nothing is accepted', async () => {
    const momentum = honest[1]!.map((x) => x * 0.5)
    const cands = [
      candidate(0, f32(honest[0]!), { receivedAt: 500 }),
      candidate(1, null),
      candidate(2, f32(honest[1]!), { signatureValid: false }),
    ]
    const out = await computeRound(input(cands, { momentum }))
    assert.equal(out.aggregate, null)
    assert.deepEqual(out.weights, weights)
    assert.deepEqual(out.momentum, momentum)
    assert.equal(out.lossAfter, out.lossBefore)
    assert.ok(out.receipt.contributions.every((c) => !c.accepted && c.credits === 0))
    const empty = await computeRound(input([]))
    assert.deepEqual(empty.momentum, new Float32Array(weights.length))
    assert.deepEqual(empty.receipt.contributions, [])
  })

  it('judges an update against its peers too: honest workers each worse alone than the averaged checkpoint are not harmful (v2)', async () => {
    // The checkpoint is the average of five workers' end weights, and each worker's own weights
    // are worse on held-out data than that average (measured in the traffic experiment: every
    // honest update of a round rejected as harmful). Relative to c = θ − mean(Δ), worker k's update
    // is Δ_k − mean(Δ); each is stretched until, applied alone, it is 40–50 % worse than c.
    const v2 = manifestFor('centered-clip', 'v2')
    const n = weights.length
    const avg = new Float32Array(n)
    for (const d of honest) for (let i = 0; i < n; i++) avg[i]! += d[i]! / honest.length
    const c = weights.map((w, i) => w - avg[i]!)
    const base = await baseline(spec, c, validation, 'v2')
    const worseBy = async (d: Float32Array) =>
      (await lossChange(spec, c, d, validation, base)).lossAfter / base.lossBefore
    const spread: Float32Array[] = []
    for (const d of honest) {
      const dir = d.map((x, i) => x - avg[i]!)
      let lo = 0
      let hi = 200
      for (let step = 0; step < 30; step++) {
        const mid = (lo + hi) / 2
        const r = await worseBy(dir.map((x) => x * mid))
        if (r >= 1.4 && r <= 1.5) {
          lo = hi = mid
          break
        }
        if (r < 1.45) lo = mid
        else hi = mid
      }
      spread.push(dir.map((x) => x * lo))
    }
    const cands = [
      ...spread.map((d, k) => candidate(k, f32(d))),
      candidate(5, f32(avg.map((x) => -25 * x))), // back past θ: a sign flip of the round's work
    ]
    const out = await computeRound(input(cands, { weights: c, manifest: v2 }))
    const verdicts = out.receipt.contributions.map((x) => x.reason ?? null)
    // Against the checkpoint alone (the first v2 comparison) each honest one is harmful…
    const alone = out.receipt.contributions.slice(0, 5).map((x) => scoreVerdict(x.score!, 'v2'))
    assert.deepEqual(
      alone,
      Array(5).fill('harmful'),
      'the case must be one the checkpoint test fails',
    )
    // …against the median peer it is ordinary, and the sign flip is still harmful.
    assert.deepEqual(verdicts, [null, null, null, null, null, 'harmful'])
    // Their loss term is the peer comparison's (no worse than the median: 0.5 or more), not the
    // checkpoint's (40 % worse: 0); what they earn then follows their agreement with the aggregate.
    for (const x of out.receipt.contributions.slice(0, 5))
      if (x.score!.cosine > 0.3) assert.ok(x.credits > 0, `credits ${x.credits}`)
  })

  it('weights updates by samples × reputation under the mean rule', async () => {
    const mean = manifestFor('mean')
    const cands = [candidate(0, f32(honest[0]!)), candidate(1, f32(honest[1]!))]
    const reputation = new Map([
      [cands[0]!.contributor, 0.75],
      [cands[1]!.contributor, 0.25],
    ])
    const out = await computeRound(input(cands, { manifest: mean, reputation }))
    const expected = honest[0]!.map((x, i) => Math.fround(0.75 * x + 0.25 * honest[1]![i]!))
    for (let i = 0; i < expected.length; i++)
      assert.ok(Math.abs(out.aggregate![i]! - expected[i]!) < 1e-6)
    assert.equal(out.receipt.rule, 'mean')
  })

  it('derives replays and reputation from the receipts before a round', () => {
    const contribution = (who: string, hash: string, accepted: boolean) => ({
      contributor: h(who),
      updateCore: h('d'),
      updateIndex: 0,
      updateHash: h(hash),
      samples: SAMPLES,
      quality: accepted ? 0.8 : 0,
      credits: 0,
      accepted,
      ...(accepted ? {} : { reason: 'late' as const }),
    })
    const receipt = (round: number, contributions: Receipt['contributions']): Receipt => ({
      v: 1,
      round,
      closedAt: 1000 + round,
      checkpointIn: h('1'),
      checkpointOut: h('2'),
      rule: 'centered-clip',
      contributions,
    })
    const ref = { v: 1 as const, round: 0, contentHash: h('1'), byteLength: 1, chunkCount: 1 }
    const state: LedgerState = {
      manifest,
      rounds: [
        {
          round: 0,
          checkpoint: { ...ref, index: 1 },
          receipt: receipt(0, [contribution('b', '3', true)]),
        },
        {
          round: 1,
          checkpoint: { ...ref, index: 5 },
          receipt: receipt(1, [contribution('c', '4', false)]),
        },
        { round: 2, checkpoint: { ...ref, index: 9 } },
      ],
      completeLength: 12,
      tornTail: null,
    }
    const all = roundHistory(state)
    assert.deepEqual([...all.seenBefore], [h('3'), h('4')])
    assert.ok(Math.abs(all.reputation.get(h('b'))! - (0.8 * 0.5 + 0.2 * 0.8)) < 1e-12)
    assert.ok(Math.abs(all.reputation.get(h('c'))! - 0.4) < 1e-12)
    const first = roundHistory(state, 1)
    assert.deepEqual([...first.seenBefore], [h('3')])
    assert.equal(first.reputation.has(h('c')), false)
  })
})
