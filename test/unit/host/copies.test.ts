/**
 * Scoring v3 (core/host/scoring.ts, verdicts.ts): near-duplicates of an earlier standing update
 * are rejected, and quality is scaled by the update's independence from the others (spread), so
 * updates built from the others' (ALIE: their mean − z·std) earn little. Synthetic updates for the
 * rules (fast), real inner loops for computeRound.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { encode } from '../../../core/engine/compress/codec.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { initialWeights, seededRandom } from '../../../core/engine/model/init.js'
import { computeRound, type RoundCandidate } from '../../../core/host/round.js'
import {
  cosine,
  independence,
  NEAR_DUPLICATE_COSINE,
  quality,
  SPREAD_FLOOR,
  SPREAD_FULL,
  spreads,
} from '../../../core/host/scoring.js'
import { screenRound, type Candidate } from '../../../core/host/verdicts.js'
import type { Score } from '../../../core/ledger/entries.js'
import {
  createManifest,
  parseProjectSpec,
  type ScoringVersion,
} from '../../../core/ledger/manifest.js'
import { innerJob, syntheticBatch, syntheticData } from '../../support/engine-fixtures.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const N = 4000

function gaussian(seed: number, sigma = 1): Float32Array {
  const r = seededRandom(seed)
  return Float32Array.from({ length: N }, () => {
    const u = Math.max(r(), 1e-12)
    return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r())
  })
}

/** Shared signal plus each worker's own noise of the same size: pairwise cosine ≈ 0.5. */
const signal = gaussian(1)
const worker = (k: number) => {
  const noise = gaussian(100 + k)
  return signal.map((s, i) => s + noise[i]!)
}
/** A copy scaled by `scale` with noise of `relative` × its norm. */
const perturb = (x: Float32Array, scale: number, relative: number, seed: number) => {
  const noise = gaussian(seed, relative * Math.sqrt(x.reduce((a, v) => a + v * v, 0) / N))
  return x.map((v, i) => scale * v + noise[i]!)
}
/** ALIE: mean − z·std of the given updates, per coordinate. */
function alie(updates: Float32Array[], z: number): Float32Array {
  return Float32Array.from({ length: updates[0]!.length }, (_, i) => {
    const xs = updates.map((u) => u[i]!)
    const m = xs.reduce((a, b) => a + b, 0) / xs.length
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)
    return m - z * sd
  })
}

const screen = (deltas: Float32Array[], scoring: ScoringVersion = 'v3') =>
  screenRound(
    deltas.map((delta, k): Candidate => ({
      contributor: k.toString(16).padStart(64, '0'),
      updateHash: createHash('sha256').update(delta).digest('hex'),
      delta,
      receivedAt: k,
      signatureValid: true,
    })),
    { expectedLength: N, deadline: 1000, seenBefore: new Set(), scoring },
  )

describe('scoring v3: copies and consensus-followers', () => {
  const honest = Array.from({ length: 6 }, (_, k) => worker(k))

  it('independent workers are far from near-duplicates of each other', () => {
    let max = -1
    for (let a = 0; a < honest.length; a++)
      for (let b = a + 1; b < honest.length; b++)
        max = Math.max(max, cosine(honest[a]!, honest[b]!))
    assert.ok(max < 0.6 && max < NEAR_DUPLICATE_COSINE, `${max}`)
    assert.deepEqual(screen(honest), Array(6).fill(null))
  })

  it('rejects a scaled or perturbed copy offered after its original, and keeps the original', () => {
    const copy = perturb(honest[2]!, 1.02, 0.1, 7)
    assert.ok(cosine(copy, honest[2]!) > NEAR_DUPLICATE_COSINE)
    const scaled = honest[4]!.map((x) => 0.7 * x)
    const verdicts = screen([...honest, copy, scaled])
    assert.deepEqual(verdicts, [...Array(6).fill(null), 'near-duplicate', 'near-duplicate'])
    // v2 has no such rule: both stand (they only differ by bytes).
    assert.deepEqual(screen([...honest, copy, scaled], 'v2'), Array(8).fill(null))
  })

  it('the first offered of a pair stands (arrival order, as the receipt records it)', () => {
    const copy = perturb(honest[0]!, 0.98, 0.05, 8)
    assert.deepEqual(screen([copy, ...honest]), [null, 'near-duplicate', ...Array(5).fill(null)])
  })

  it('compares with updates still standing only: a copy of a rejected copy is judged by the original', () => {
    const a = honest[1]!
    const b = perturb(a, 1, 0.05, 9) // a copy of a
    const c = perturb(b, 1, 0.05, 10) // a copy of the copy: still within reach of a
    assert.deepEqual(screen([...honest, b, c]).slice(6), ['near-duplicate', 'near-duplicate'])
    // Copying a copy that is not itself close enough to anything standing keeps nothing out:
    // rules never chain through rejected updates (a rejected update cannot get another rejected).
    const far = perturb(a, 1, 0.5, 11) // cosine ≈ 0.9 with a: not a near-duplicate
    assert.ok(cosine(far, a) < NEAR_DUPLICATE_COSINE)
    assert.deepEqual(screen([...honest, far]).slice(6), [null])
  })

  it('norm rules come first: a zero update is a norm outlier, never anyone’s copy', () => {
    const v = screen([...honest, new Float32Array(N)])
    assert.equal(v[6], 'norm-outlier')
  })

  it('spread: independent workers ≈ 1, ALIE built from them far under the floor', () => {
    const attack = alie(honest, 0.32)
    const s = spreads([...honest, attack])
    for (const x of s.slice(0, 6)) assert.ok(x! > 0.85 && x! < 1.2, `honest spread ${x}`)
    assert.ok(s[6]! < SPREAD_FLOOR, `ALIE spread ${s[6]}`)
    assert.equal(independence(s[6]), 0)
    for (const x of s.slice(0, 6)) assert.equal(independence(x), 1)
    // Below three updates no median means anything: no spread.
    assert.deepEqual(spreads(honest.slice(0, 2)), [undefined, undefined])
    // Unweighted and leave-one-out: reordering the inputs permutes the spreads (up to the last bit).
    const r = spreads([attack, ...honest])
    assert.ok(Math.abs(r[0]! - s[6]!) < 1e-9)
  })

  it('independence ramps linearly between the floor and full', () => {
    assert.equal(independence(undefined), 1)
    assert.equal(independence(0), 0)
    assert.equal(independence(SPREAD_FLOOR), 0)
    assert.equal(independence(SPREAD_FULL), 1)
    assert.equal(independence(5), 1)
    assert.ok(Math.abs(independence((SPREAD_FLOOR + SPREAD_FULL) / 2) - 0.5) < 1e-12)
    assert.equal(independence(NaN), 0)
  })

  it('v3 quality is v2 quality × independence; without a spread it is v2 quality', () => {
    const v2: Score = { lossBefore: 1, lossAfter: 0.95, lossSE: 0.001, cosine: 0.8, normRatio: 1 }
    const mid = (SPREAD_FLOOR + SPREAD_FULL) / 2
    assert.equal(quality({ ...v2, spread: 1 }), quality(v2))
    assert.ok(Math.abs(quality({ ...v2, spread: mid }) - quality(v2) * 0.5) <= 1e-6)
    assert.equal(quality({ ...v2, spread: 0.1 }), 0)
  })
})

describe('computeRound under scoring v3', () => {
  const manifestFor = (scoring: ScoringVersion) =>
    createManifest(
      parseProjectSpec(
        tinyProjectInput({ seed: 3, aggregation: { rule: 'centered-clip', scoring } }),
      ),
      'a'.repeat(64),
      1000,
    )
  const spec = manifestFor('v3').model
  const weights = initialWeights(spec, 3)
  const validation = syntheticBatch(spec, 128, 999)
  const trained: Float32Array[] = []
  const f32 = (x: Float32Array) => encode({ method: 'f32', n: x.length, values: x })
  const candidate = (k: number, delta: Float32Array): RoundCandidate => {
    const encoded = f32(delta)
    return {
      contributor: (k + 1).toString(16).padStart(64, '0'),
      updateCore: (k + 101).toString(16).padStart(64, '0'),
      updateIndex: 0,
      updateHash: createHash('sha256').update(encoded).digest('hex'),
      samples: 32,
      encoded,
      receivedAt: k,
      signatureValid: true,
    }
  }
  const round = (scoring: ScoringVersion, deltas: Float32Array[]) =>
    computeRound({
      manifest: manifestFor(scoring),
      round: 0,
      weights,
      momentum: null,
      candidates: deltas.map((d, k) => candidate(k, d)),
      seenBefore: new Set(),
      reputation: new Map(),
      validation,
      deadline: 100,
      closedAt: 200,
    })

  before(async () => {
    await selectBackend('cpu')
    for (let k = 0; k < 5; k++) {
      const data = syntheticData(spec, 16, 10 + k)
      const job = { ...innerJob(spec, 12), weights }
      trained.push(
        Float32Array.from((await runInnerLoop(job, { nextBatch: () => data.next() })).delta),
      )
    }
  })

  it('pays an ALIE update less than honest work, honest work as v2 does, and rejects a perturbed copy', async () => {
    const attack = alie(trained, 0.32)
    const rms = Math.sqrt(trained[3]!.reduce((a, x) => a + x * x, 0) / trained[3]!.length)
    const copy = trained[3]!.map((x, i) => 1.02 * x + (i % 2 ? 0.05 : -0.05) * rms)
    const deltas = [...trained, attack, copy]
    const v3 = await round('v3', deltas)
    const v2 = await round('v2', deltas)
    const c3 = v3.receipt.contributions
    const c2 = v2.receipt.contributions
    assert.deepEqual(
      c3.map((c) => c.reason ?? null),
      [null, null, null, null, null, null, 'near-duplicate'],
    )
    assert.equal(c3[6]!.credits, 0)
    assert.equal(c2[6]!.accepted, true, 'v2 cannot tell the copy')
    const honestMean = (cs: typeof c3) => cs.slice(0, 5).reduce((a, c) => a + c.credits, 0) / 5
    // v3 records the spread of every accepted update; the honest ones are independent work.
    for (const c of c3.slice(0, 6)) assert.ok(c.score?.spread !== undefined)
    for (const c of c3.slice(0, 5)) assert.ok(c.score!.spread! >= SPREAD_FULL, `${c.score!.spread}`)
    assert.ok(c3[5]!.score!.spread! < SPREAD_FULL, `ALIE spread ${c3[5]!.score!.spread}`)
    assert.ok(c3[5]!.credits < 0.25 * honestMean(c3), `ALIE ${c3[5]!.credits}`)
    assert.ok(c2[5]!.credits > 0, 'under v2 the ALIE update earns')
    // Honest work keeps independence 1: what it earns differs from v2 only through the aggregate
    // (v2's also holds the copy).
    assert.ok(honestMean(c3) > 0.9 * honestMean(c2), `${honestMean(c3)} vs ${honestMean(c2)}`)
  })

  it('is deterministic, so verify replays the same spreads and verdicts', async () => {
    const deltas = [...trained, alie(trained, 0.32)]
    const a = await round('v3', deltas)
    const b = await round('v3', deltas)
    assert.deepEqual(a.receipt, b.receipt)
    assert.ok(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer)))
  })
})
