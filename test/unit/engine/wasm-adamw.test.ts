/**
 * The fused in-place AdamW of the wasm backend (core/engine/optim/wasm-adamw.ts) against the tfjs-ops
 * AdamW (adamw.ts) on the same backend: same trajectory within float rounding over many steps, with
 * clipping and weight decay on some tensors only; deterministic; and the inner loop uses it on wasm.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import '@tensorflow/tfjs-backend-wasm'
import { AdamW, createAdamW, DEFAULT_ADAMW } from '../../../core/engine/optim/adamw.js'
import { WasmAdamW } from '../../../core/engine/optim/wasm-adamw.js'
import { seededRandom } from '../../../core/engine/model/init.js'
import * as tf from '../../../core/engine/tf.js'

const shapes = [[37, 19], [19], [19, 5], [5]]
const decay = [true, false, true, false]

function values(seed: number, scale: number): Float32Array[] {
  const rand = seededRandom(seed)
  return shapes.map((s) =>
    Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rand() - 0.5) * scale),
  )
}

async function trajectory(
  fused: boolean | 'js',
  steps: number,
  clipNorm: number,
): Promise<{ w: Float32Array[]; norms: number[] }> {
  const init = values(1, 1)
  const params = init.map((v, i) => tf.variable(tf.tensor(v, shapes[i])))
  const cfg = { ...DEFAULT_ADAMW, clipNorm }
  const opt = fused
    ? new WasmAdamW(params, decay, cfg, { simd: fused !== 'js' })
    : new AdamW(params, decay, cfg)
  if (opt instanceof WasmAdamW) assert.equal(opt.simd, fused !== 'js')
  const norms: number[] = []
  for (let s = 0; s < steps; s++) {
    // Gradients that vary per step, large enough for clipping to bite on some steps.
    const grads = values(100 + s, s % 3 === 0 ? 40 : 0.5).map((g, i) => tf.tensor(g, shapes[i]))
    const lr = 1e-2 * (1 + (s % 4))
    if (opt instanceof WasmAdamW) norms.push(opt.stepNorm(grads, lr))
    else {
      const n = opt.step(grads, lr)
      norms.push((await n.data())[0] as number)
      n.dispose()
    }
    tf.dispose(grads)
  }
  const w = await Promise.all(params.map(async (p) => (await p.data()) as Float32Array))
  if (opt instanceof AdamW) opt.dispose()
  tf.dispose(params)
  return { w, norms }
}

describe('fused AdamW on wasm', () => {
  before(async () => {
    await tf.setBackend('wasm')
    await tf.ready()
  })

  it('is available on the wasm backend only', async () => {
    assert.equal(WasmAdamW.supported(), true)
    await tf.setBackend('cpu')
    assert.equal(WasmAdamW.supported(), false)
    await tf.setBackend('wasm')
  })

  for (const clipNorm of [0, 1]) {
    it(`follows the tfjs-ops AdamW over 60 steps within float rounding (clipNorm ${clipNorm})`, async () => {
      const ref = await trajectory(false, 60, clipNorm)
      const got = await trajectory(true, 60, clipNorm)
      ref.norms.forEach((n, i) =>
        assert.ok(
          Math.abs(n - (got.norms[i] as number)) <= 1e-5 * n,
          `norm ${i}: ${n} vs ${got.norms[i]}`,
        ),
      )
      let diff = 0
      ref.w.forEach((w, k) =>
        w.forEach(
          (x, i) =>
            (diff = Math.max(diff, Math.abs(x - ((got.w[k] as Float32Array)[i] as number)))),
        ),
      )
      // 60 steps of lr ≤ 0.04 move weights by up to ~2; rounding differences stay far below that.
      assert.ok(diff < 2e-5, `weights differ by ${diff}`)
    })
  }

  it('a matmul after a step sees the new weights (no stale packed weights in XNNPACK)', async () => {
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]))
    const x = tf.tensor2d([1, 2, 0], [1, 3])
    const opt = new WasmAdamW([w], [false], { ...DEFAULT_ADAMW, clipNorm: 0 })
    const before = tf.matMul(x, w) // XNNPACK packs w here, keyed by its tensor id
    opt.step([tf.onesLike(w)], 0.5)
    const after = (await tf.matMul(x, w).data()) as Float32Array
    const wNow = (await w.data()) as Float32Array
    const expected = [0, 1].map((c) => (wNow[c] as number) + 2 * (wNow[2 + c] as number))
    assert.deepEqual(Array.from(after), expected)
    assert.notDeepEqual(Array.from(await before.data()), expected)
    tf.dispose([w, x, before])
  })

  it('is the optimizer the inner loop gets on wasm (and not on cpu)', async () => {
    const p = [tf.variable(tf.zeros([2]))]
    assert.ok(createAdamW(p, [false], DEFAULT_ADAMW) instanceof WasmAdamW)
    await tf.setBackend('cpu')
    assert.ok(createAdamW(p, [false], DEFAULT_ADAMW) instanceof AdamW)
    await tf.setBackend('wasm')
    tf.dispose(p)
  })

  it('the SIMD kernel and the float32 JavaScript loop agree (sizes not multiples of 4)', async () => {
    // Same float32 update; only the gradient norm's summation order differs (lanes vs one sum).
    const simd = await trajectory(true, 30, 1)
    const js = await trajectory('js', 30, 1)
    let diff = 0
    simd.w.forEach((w, k) =>
      w.forEach(
        (x, i) => (diff = Math.max(diff, Math.abs(x - ((js.w[k] as Float32Array)[i] as number)))),
      ),
    )
    assert.ok(diff < 1e-6, `SIMD and JS differ by ${diff}`)
    simd.norms.forEach((n, i) => assert.ok(Math.abs(n - (js.norms[i] as number)) <= 1e-5 * n))
  })

  it('is deterministic: the same steps give the same bits', async () => {
    const a = await trajectory(true, 20, 1)
    const b = await trajectory(true, 20, 1)
    a.w.forEach((w, k) =>
      assert.deepEqual(Buffer.from(w.buffer), Buffer.from((b.w[k] as Float32Array).buffer)),
    )
    assert.deepEqual(a.norms, b.norms)
  })
})
