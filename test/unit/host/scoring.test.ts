import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { isHarmful, quality, scoreUpdate } from '../../../core/host/scoring.js'
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
