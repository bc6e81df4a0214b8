import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { Batch } from '../../../core/engine/batch.js'
import { classify, imageShape } from '../../../core/engine/classify.js'
import { evaluateRecordLosses, runInnerLoop } from '../../../core/engine/inner-loop.js'
import { initialWeights, seededRandom } from '../../../core/engine/model/init.js'
import * as tf from '../../../core/engine/tf.js'
import { innerJob, tinyCnn, tinyMlp, tinyTransformer } from '../../support/engine-fixtures.js'

/** A 6×6×2 image of class k (0..2): rows 2k and 2k+1 lit in both channels, faint noise elsewhere. */
function bandImage(k: number, rand: () => number): Float32Array {
  const x = new Float32Array(6 * 6 * 2)
  for (let r = 0; r < 6; r++)
    for (let i = 0; i < 12; i++) x[r * 12 + i] = Math.floor(r / 2) === k ? 0.9 : 0.1 * rand()
  return x
}

function bandBatch(size: number, seed: number): Batch {
  const rand = seededRandom(seed)
  const x = new Float32Array(size * 72)
  const y = new Int32Array(size)
  for (let b = 0; b < size; b++) {
    y[b] = b % 3
    x.set(bandImage(b % 3, rand), b * 72)
  }
  return { kind: 'tensors', batch: size, shape: [6, 6, 2], x, y }
}

describe('image classification ("try it")', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })

  it('probabilities sum to 1 and match the training forward pass (−log p = record loss)', async () => {
    for (const spec of [tinyCnn(), tinyMlp()]) {
      const weights = initialWeights(spec, 3)
      const size = spec.type === 'mlp' ? spec.inputSize : 72
      const rand = seededRandom(9)
      const features = Float32Array.from({ length: size }, () => rand())
      const out = await classify(spec, weights, features, 2)
      assert.equal(out.probabilities.length, 3)
      const sum = out.probabilities.reduce((a, b) => a + b, 0)
      assert.ok(Math.abs(sum - 1) < 1e-5, `sum ${sum}`)
      assert.equal(out.top.length, 2)
      assert.ok(out.top[0]!.probability >= out.top[1]!.probability)
      assert.equal(out.probabilities[out.top[0]!.index], out.top[0]!.probability)
      const shape = spec.type === 'cnn' ? [6, 6, 2] : [size]
      for (let label = 0; label < 3; label++) {
        const batch: Batch = {
          kind: 'tensors',
          batch: 1,
          shape,
          x: features,
          y: Int32Array.of(label),
        }
        const [loss] = await evaluateRecordLosses(spec, weights, batch)
        assert.ok(
          Math.abs(-Math.log(out.probabilities[label]!) - loss!) < 1e-4,
          `${spec.type} class ${label}: −log p ${-Math.log(out.probabilities[label]!)} vs loss ${loss}`,
        )
      }
    }
  })

  it('a CNN trained a few steps on a separable set classifies clear new examples right', async () => {
    const spec = tinyCnn()
    const job = { ...innerJob(spec, 60, 4) }
    job.schedule = { ...job.schedule, peakLr: 3e-2 }
    let step = 0
    const result = await runInnerLoop(job, { nextBatch: async () => bandBatch(24, 100 + step++) })
    const trained = job.weights.map((w, i) => w - result.delta[i]!)
    const rand = seededRandom(12345)
    for (let k = 0; k < 3; k++) {
      const out = await classify(spec, trained, bandImage(k, rand))
      assert.equal(out.top[0]!.index, k, `class ${k}: ${JSON.stringify(out.top)}`)
      assert.ok(out.top[0]!.probability > 0.6, `class ${k} p=${out.top[0]!.probability}`)
    }
  })

  it('refuses language models, wrong input sizes and non-finite values with coded errors', async () => {
    const lm = tinyTransformer()
    await assert.rejects(classify(lm, initialWeights(lm, 1), new Float32Array(6)), {
      code: 'BAD_ARGUMENT',
    })
    const cnn = tinyCnn()
    const w = initialWeights(cnn, 1)
    await assert.rejects(classify(cnn, w, new Float32Array(71)), { code: 'BAD_ARGUMENT' })
    const bad = new Float32Array(72)
    bad[5] = NaN
    await assert.rejects(classify(cnn, w, bad), { code: 'BAD_ARGUMENT' })
    await assert.rejects(classify(cnn, new Float32Array(3), new Float32Array(72)), {
      code: 'SPEC_MISMATCH',
    })
  })

  it('imageShape: a CNN input, an MLP over [H, W] or [H, W, C] records, refusals', () => {
    assert.deepEqual(imageShape(tinyCnn(), [6, 6, 2]), { height: 6, width: 6, channels: 2 })
    assert.deepEqual(imageShape(tinyCnn(), [72]), { height: 6, width: 6, channels: 2 })
    assert.deepEqual(imageShape(tinyMlp(), [3, 4]), { height: 3, width: 4, channels: 1 })
    assert.deepEqual(imageShape(tinyMlp(), [2, 2, 3]), { height: 2, width: 2, channels: 3 })
    assert.throws(() => imageShape(tinyMlp(), [12]), { code: 'BAD_ARGUMENT' })
    assert.throws(() => imageShape(tinyMlp(), [1, 2, 6]), { code: 'BAD_ARGUMENT' })
    assert.throws(() => imageShape(tinyTransformer(), [6, 6]), { code: 'BAD_ARGUMENT' })
    assert.throws(() => imageShape(tinyMlp(), [4, 4]), { code: 'SPEC_MISMATCH' })
    assert.throws(() => imageShape(tinyCnn(), [6, 6]), { code: 'SPEC_MISMATCH' })
  })
})
