/**
 * Autodiff gradients of every layer type against central finite differences, on tiny models in
 * float32 on the cpu backend: dense + tanh/gelu, conv2d + max-pool, embeddings, layer norm, causal
 * self-attention and softmax cross-entropy.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { batchTensors, lossFunction } from '../../../core/engine/model/forward.js'
import { initialWeights, seededRandom } from '../../../core/engine/model/init.js'
import { paramLayout, sizeOf } from '../../../core/engine/model/layout.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import type { ModelSpec } from '../../../core/engine/spec/schema.js'
import * as tf from '../../../core/engine/tf.js'
import { syntheticBatch, tinyCnn, tinyMlp, tinyTransformer } from '../../support/engine-fixtures.js'

function toTensors(spec: ModelSpec, flat: Float32Array): tf.Tensor[] {
  let o = 0
  return paramLayout(spec).map((p) => {
    const n = sizeOf(p.shape)
    const t = tf.tensor(flat.subarray(o, o + n), p.shape)
    o += n
    return t
  })
}

async function checkGradients(spec: ModelSpec, seed: number): Promise<void> {
  const fn = lossFunction(spec)
  const batch = batchTensors(spec, syntheticBatch(spec, 4, seed))
  // Perturb the initialisation so no parameter sits exactly at a symmetric point (zero biases, unit gains).
  const rand = seededRandom(seed)
  const w = initialWeights(spec, seed).map((v) => v + (rand() - 0.5) * 0.2)
  const lossAt = (flat: Float32Array): number =>
    tf.tidy(() => {
      const params = toTensors(spec, flat)
      return fn.loss(params, batch).dataSync()[0] as number
    })
  const params = toTensors(spec, w)
  const grads = tf.grads((...ps: tf.Tensor[]) => fn.loss(ps, batch))(params)
  const analytic = new Float32Array(w.length)
  let o = 0
  for (const g of grads) {
    analytic.set(await g.data(), o)
    o += g.size
  }
  tf.dispose([...params, ...grads])

  // A few coordinates from every parameter tensor.
  const eps = 1e-2
  let offset = 0
  let checked = 0
  for (const p of paramLayout(spec)) {
    const n = sizeOf(p.shape)
    for (let k = 0; k < Math.min(n, 3); k++) {
      const i = offset + Math.floor(rand() * n)
      const plus = Float32Array.from(w)
      const minus = Float32Array.from(w)
      plus[i] = (plus[i] as number) + eps
      minus[i] = (minus[i] as number) - eps
      const numeric = (lossAt(plus) - lossAt(minus)) / (2 * eps)
      const a = analytic[i] as number
      assert.ok(
        Math.abs(a - numeric) <= 2e-3 + 0.05 * Math.abs(numeric),
        `${p.name}[${i - offset}]: autodiff ${a} vs finite difference ${numeric}`,
      )
      checked++
    }
    offset += n
  }
  assert.ok(checked >= paramLayout(spec).length)
  fn.dispose()
  tf.dispose([batch.x, batch.y])
}

// wasm too: there conv2d's filter gradient, max-pool's gradient and the embedding gradient are ours.
for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradients match finite differences (${backend})`, () => {
    before(async () => {
      await selectBackend(backend)
    })
    it('dense layers with tanh and the cross-entropy loss', () => checkGradients(tinyMlp(), 1))
    it('dense layers with gelu', () =>
      checkGradients(
        parseSpec({ type: 'mlp', inputSize: 5, hidden: [6, 4], classes: 3, activation: 'gelu' }),
        2,
      ))
    it('conv2d, max-pool and the dense head', () => checkGradients(tinyCnn(), 3))
    it('strided conv2d, valid and same', async () => {
      for (const padding of ['valid', 'same'] as const) {
        const spec = parseSpec({
          type: 'cnn',
          input: { height: 7, width: 7, channels: 2 },
          layers: [{ type: 'conv2d', filters: 2, kernel: 3, stride: 2, padding }],
          classes: 2,
          activation: 'tanh',
        })
        await checkGradients(spec, 4)
      }
    })
    it('embeddings, layer norm, causal self-attention and the gelu MLP', () =>
      checkGradients(tinyTransformer(), 5))
  })
}
