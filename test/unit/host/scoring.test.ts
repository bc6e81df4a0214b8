import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import {
  baseline,
  changeBeyondNoise,
  isHarmful,
  NOISE_Z,
  pairedDifference,
  quality,
  scoreUpdate,
} from '../../../core/host/scoring.js'
import { screenRound, type Candidate } from '../../../core/host/verdicts.js'
import { innerJob, syntheticBatch, syntheticData, tinyMlp } from '../../support/engine-fixtures.js'

const spec = tinyMlp()

describe('host scoring', () => {
  before(async () => {
    await selectBackend('cpu')
  })

  it('scores a real update as helpful and its −10× opposite as harmful', async () => {
    const job = innerJob(spec, 30)
    const data = syntheticData(spec, 16, 3)
    const { delta } = await runInnerLoop(job, { nextBatch: () => data.next() })
    const harmful = delta.map((x) => -10 * x)
    const batch = syntheticBatch(spec, 64, 999)
    const good = await scoreUpdate(spec, job.weights, delta, delta, 1, batch)
    assert.ok(good.score.lossAfter < good.score.lossBefore, JSON.stringify(good.score))
    assert.ok(Math.abs(good.score.cosine - 1) < 1e-6)
    const bad = await scoreUpdate(spec, job.weights, harmful, delta, 1, batch)
    assert.ok(bad.score.lossAfter > bad.score.lossBefore)
    assert.ok(good.quality > bad.quality, `${good.quality} vs ${bad.quality}`)
    assert.ok(isHarmful(bad.score) && !isHarmful(good.score))
    assert.ok(good.quality > 0 && good.quality <= 1 && bad.quality >= 0)
  })

  it('v2: scores a real update as helpful and its −10× opposite as harmful beyond the noise', async () => {
    const job = innerJob(spec, 30)
    const data = syntheticData(spec, 16, 3)
    const { delta } = await runInnerLoop(job, { nextBatch: () => data.next() })
    const batch = syntheticBatch(spec, 64, 999)
    const base = await baseline(spec, job.weights, batch, 'v2')
    assert.equal(base.records?.length, 64)
    const good = await scoreUpdate(spec, job.weights, delta, delta, 1, batch, base)
    const bad = await scoreUpdate(
      spec,
      job.weights,
      delta.map((x) => -10 * x),
      delta,
      1,
      batch,
      base,
    )
    assert.ok(good.score.lossSE! > 0 && bad.score.lossSE! > 0)
    assert.ok(isHarmful(bad.score) && !isHarmful(good.score), JSON.stringify([good, bad]))
    assert.ok(good.quality > 0 && bad.quality === 0, `${good.quality} ${bad.quality}`)
    // The v2 mean of the records is the v1 batch mean up to float32 rounding.
    const v1 = await baseline(spec, job.weights, batch, 'v1')
    assert.ok(Math.abs(v1.lossBefore - base.lossBefore) < 1e-6 * base.lossBefore)
  })

  it('pairs per-record losses: mean difference and its standard error', () => {
    const d = pairedDifference([1, 2, 3, 4], [1.5, 2.5, 3.5, 5.5])
    // differences 0.5, 0.5, 0.5, 1.5: mean 0.75, sample sd 0.5, se 0.25
    assert.ok(Math.abs(d.mean - 0.75) < 1e-12 && Math.abs(d.se - 0.25) < 1e-12)
    assert.deepEqual(pairedDifference([1], [3]), { mean: 2, se: 0 })
  })

  it('v1 rejects a change carried by two records at a tiny loss; v2 calls it noise', () => {
    // A converged model: 512 records at loss 0.002, of which two get much worse (0.3 each).
    const before = new Float64Array(512).fill(0.002)
    const after = Float64Array.from(before)
    after[7] = 0.3
    after[300] = 0.3
    const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length
    const { se } = pairedDifference(before, after)
    const change = { lossBefore: mean(before), lossAfter: mean(after) }
    assert.ok(change.lossAfter > 1.1 * change.lossBefore, 'more than 10 % worse')
    assert.equal(isHarmful(change), true, 'v1: harmful')
    assert.equal(isHarmful({ ...change, lossSE: se }), false, 'v2: within 3 standard errors')
    // Significant but under 10 %: not harmful either (the relative tolerance still holds).
    assert.equal(isHarmful({ lossBefore: 1, lossAfter: 1.05, lossSE: 0.001 }), false)
    assert.equal(isHarmful({ lossBefore: 1, lossAfter: 1.2, lossSE: 0.05 }), true)
    assert.equal(isHarmful({ lossBefore: 1, lossAfter: 1.2, lossSE: 0.07 }), false)
    assert.equal(changeBeyondNoise({ ...change, lossSE: se }), 0)
    assert.equal(quality({ ...change, lossSE: se, cosine: 1, normRatio: 1 }), 0.5)
    // The same harm spread over 60 records is beyond the noise: rejected by v2 as well.
    const broad = Float64Array.from(before)
    for (let i = 0; i < 60; i++) broad[i * 8] = 0.012
    const wide = {
      lossBefore: mean(before),
      lossAfter: mean(broad),
      lossSE: pairedDifference(before, broad).se,
    }
    const worse = wide.lossAfter - wide.lossBefore
    assert.ok(worse > 0.1 * wide.lossBefore && worse > NOISE_Z * wide.lossSE)
    assert.equal(isHarmful(wide), true)
  })

  it('v2 quality counts only the change beyond the noise band', () => {
    const base = { lossBefore: 2, lossAfter: 1.8, cosine: 1, normRatio: 1, lossSE: 0.02 }
    // 0.2 better, minus 3 × 0.02 of noise = 0.14 → rel 0.07 → lossQ 0.85
    assert.equal(quality(base), 0.85)
    assert.equal(quality({ ...base, lossAfter: 2.05 }), 0.5, 'inside the band: no change')
    assert.equal(quality({ ...base, lossSE: NaN }), 0)
    // No floors: agreement and norm scale it down to nothing.
    assert.equal(quality({ ...base, cosine: 0.5, normRatio: 2 }), 0.2125)
    assert.equal(quality({ ...base, cosine: -0.3 }), 0, 'against the aggregate')
    assert.equal(quality({ ...base, cosine: 0, normRatio: 0 }), 0, 'zeros')
  })

  it('maps scores to quality in [0, 1] as documented', () => {
    const base = { lossBefore: 2, lossAfter: 2, cosine: 1, normRatio: 1 }
    assert.equal(quality(base), 0.5)
    assert.equal(quality({ ...base, lossAfter: 1.8 }), 1)
    assert.equal(quality({ ...base, lossAfter: 2.2 }), 0)
    assert.equal(quality({ ...base, cosine: -1 }), 0.25)
    assert.equal(quality({ ...base, lossAfter: NaN }), 0)
  })

  it('screens each rejection code', () => {
    const ok = (hash: string, scale = 1): Candidate => ({
      updateHash: hash,
      delta: new Float32Array([scale, scale, 0]),
      receivedAt: 10,
      signatureValid: true,
    })
    const candidates: Candidate[] = [
      ok('a'),
      ok('b', 1.1),
      ok('c', 0.9),
      { ...ok('d'), signatureValid: false },
      { ...ok('e'), receivedAt: 101 },
      ok('old'),
      ok('a'),
      { ...ok('f'), delta: new Float32Array(2) },
      { ...ok('g'), delta: null },
      { ...ok('h'), delta: new Float32Array([1, NaN, 0]) },
      ok('i', 50),
    ]
    const verdicts = screenRound(candidates, {
      expectedLength: 3,
      deadline: 100,
      seenBefore: new Set(['old']),
    })
    assert.deepEqual(verdicts, [
      null,
      null,
      null,
      'bad-signature',
      'late',
      'replayed',
      'duplicate',
      'wrong-shape',
      'wrong-shape',
      'non-finite',
      'norm-outlier',
    ])
  })
})
