import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { drawToken, sampleTokens } from '../../../core/engine/generate.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import * as tf from '../../../core/engine/tf.js'
import { tinyMlp, tinyTransformer } from '../../support/engine-fixtures.js'

describe('text generation', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })

  it('samples reproducibly: same weights and seed give the same tokens, all in the vocabulary', async () => {
    const spec = tinyTransformer()
    const weights = initialWeights(spec, 7)
    const a = await sampleTokens(spec, weights, { prompt: [1, 2, 3], length: 20, seed: 5 })
    const b = await sampleTokens(spec, weights, { prompt: [1, 2, 3], length: 20, seed: 5 })
    assert.deepEqual(a, b)
    assert.equal(a.length, 20)
    assert.ok(a.every((t) => Number.isInteger(t) && t >= 0 && t < 11))
    const c = await sampleTokens(spec, weights, { prompt: [1, 2, 3], length: 20, seed: 6 })
    assert.notDeepEqual(a, c, 'another seed draws other tokens')
  })

  it('greedy decoding picks the argmax; temperature sampling follows the softmax', () => {
    const logits = Float32Array.from([0, 3, 1])
    assert.equal(drawToken(logits, 0, Math.random), 1)
    let r = 0
    const seq = [0.01, 0.5, 0.999]
    const picks = seq.map((u) => drawToken(logits, 1, () => (r = u)))
    assert.equal(r, 0.999)
    // softmax([0,3,1]) ≈ [0.042, 0.844, 0.114]: cumulative 0.042, 0.886, 1
    assert.deepEqual(picks, [0, 1, 2])
  })

  it('refuses non-LM specs and out-of-vocabulary prompts with coded errors', async () => {
    const mlp = tinyMlp()
    await assert.rejects(sampleTokens(mlp, initialWeights(mlp, 1), { prompt: [], length: 3 }), {
      code: 'BAD_ARGUMENT',
    })
    const lm = tinyTransformer()
    await assert.rejects(sampleTokens(lm, initialWeights(lm, 1), { prompt: [11], length: 3 }), {
      code: 'BAD_ARGUMENT',
    })
  })
})
