/** Optimizers against values worked out by hand (see the comments for the arithmetic). */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { AdamW } from '../../../core/engine/optim/adamw.js'
import { HostAdamW } from '../../../core/engine/optim/host-adamw.js'
import { nesterovOuterStep } from '../../../core/engine/optim/nesterov.js'
import { learningRate } from '../../../core/engine/optim/schedule.js'
import { stepLearningRate } from '../../../core/engine/inner-loop.js'
import * as tf from '../../../core/engine/tf.js'

const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-5) => {
  assert.equal(actual.length, expected.length)
  expected.forEach((e, i) =>
    assert.ok(Math.abs((actual[i] as number) - e) <= tol, `[${i}] ${actual[i]} vs ${e}`),
  )
}

describe('AdamW', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })
  const cfg = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 0 }

  it('matches two hand-computed steps, with decoupled weight decay', async () => {
    // Step 1: m̂ = g, v̂ = g², so the Adam direction is sign(g) = [1, -1]; plus λθ = [0.01, -0.02]:
    //   θ = [1, -2] - 0.1 × [1.01, -1.02] = [0.899, -1.898]
    // Step 2: m = [0.095, -0.19], m̂ = m / 0.19 = g; v̂ = g² again, direction [1, -1]; λθ = [0.00899, -0.01898]:
    //   θ = [0.899 - 0.100899, -1.898 + 0.101898] = [0.798101, -1.796102]
    const p = tf.variable(tf.tensor1d([1, -2]))
    const opt = new AdamW([p], [true], cfg)
    const g = tf.tensor1d([0.5, -1])
    opt.step([g], 0.1).dispose()
    close(await p.data(), [0.899, -1.898])
    opt.step([g], 0.1).dispose()
    close(await p.data(), [0.798101, -1.796102])
    opt.dispose()
    tf.dispose([p, g])
  })

  it('does not decay parameters marked decay=false (biases, norm gains)', async () => {
    const p = tf.variable(tf.tensor1d([1, -2]))
    const opt = new AdamW([p], [false], cfg)
    opt.step([tf.tensor1d([0.5, -1])], 0.1).dispose()
    close(await p.data(), [0.9, -1.9])
    opt.dispose()
    p.dispose()
  })

  it('clips the global gradient norm and reports the norm before clipping', async () => {
    // With clipNorm 1, gradient [3, 4] (norm 5) becomes [0.6, 0.8]; a run fed [0.6, 0.8] directly must
    // end in the same place after a second step with a different magnitude per coordinate.
    const run = async (first: number[]) => {
      const p = tf.variable(tf.tensor1d([1, 1]))
      const opt = new AdamW([p], [false], { ...cfg, clipNorm: 1 })
      const n1 = opt.step([tf.tensor1d(first)], 0.1)
      const norm = (await n1.data())[0]
      opt.step([tf.tensor1d([0.1, 0.9])], 0.1).dispose()
      const out = Array.from(await p.data())
      tf.dispose([p, n1])
      opt.dispose()
      return { norm, out }
    }
    const clipped = await run([3, 4])
    const direct = await run([0.6, 0.8])
    assert.ok(Math.abs((clipped.norm as number) - 5) < 1e-5)
    close(clipped.out, direct.out, 1e-5)
  })
})

describe('AdamW in host memory (CPU backends)', () => {
  const cfg = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 0 }

  it('matches the same hand-computed steps as the device AdamW', () => {
    const opt = new HostAdamW(Float32Array.from([1, -2, 1, -2]), Uint8Array.from([1, 1, 0, 0]), cfg)
    for (const expected of [
      [0.899, -1.898, 0.9, -1.9],
      [0.798101, -1.796102, 0.8, -1.8],
    ]) {
      opt.gradientRow.set([0.5, -1, 0.5, -1])
      opt.step(0.1)
      close(opt.weights, expected)
    }
  })

  it('clips by the global norm and returns it', () => {
    const opt = new HostAdamW(Float32Array.from([1, 1]), Uint8Array.from([0, 0]), {
      ...cfg,
      clipNorm: 1,
    })
    opt.gradientRow.set([3, 4])
    assert.ok(Math.abs(opt.step(0.1) - 5) < 1e-9)
    const direct = new HostAdamW(Float32Array.from([1, 1]), Uint8Array.from([0, 0]), {
      ...cfg,
      clipNorm: 1,
    })
    direct.gradientRow.set([0.6, 0.8])
    direct.step(0.1)
    for (const o of [opt, direct]) {
      o.gradientRow.set([0.1, 0.9])
      o.step(0.1)
    }
    close(opt.weights, Array.from(direct.weights), 1e-6)
  })
})

describe('Nesterov outer step', () => {
  it('matches hand-computed values over two rounds and does not mutate inputs', () => {
    // u = Δ = [0.1, -0.2]; θ = θ - 0.7 (Δ + 0.9 u) = [1, 2] - 0.7 × 1.9 × Δ = [0.867, 2.266]
    const w = Float32Array.from([1, 2])
    const d = Float32Array.from([0.1, -0.2])
    const r1 = nesterovOuterStep(w, d, null)
    close(r1.weights, [0.867, 2.266])
    close(r1.momentum, [0.1, -0.2])
    assert.deepEqual(Array.from(w), [1, 2])
    // u = 0.9 u + Δ = [0.19, -0.38]; θ = [0.867 - 0.7 × 0.271, 2.266 + 0.7 × 0.542] = [0.6773, 2.6454]
    const r2 = nesterovOuterStep(r1.weights, d, r1.momentum)
    close(r2.weights, [0.6773, 2.6454])
    close(r2.momentum, [0.19, -0.38])
  })

  it('rejects mismatched lengths with a code', () => {
    assert.throws(() => nesterovOuterStep(new Float32Array(3), new Float32Array(2), null), {
      code: 'SPEC_MISMATCH',
    })
  })
})

describe('learning-rate schedule', () => {
  it('warms up linearly, then follows the cosine down to the floor', () => {
    const s = { peakLr: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 }
    close(
      [0, 3, 4, 9, 14, 100].map((t) => learningRate(s, t)),
      [0.25, 1, 1, 0.55, 0.1, 0.1],
      1e-12,
    )
  })

  it('re-warms every round over rewarmupSteps local steps; absent or 0: the schedule alone', () => {
    const schedule = { peakLr: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 }
    const job = { schedule, stepOffset: 9, rewarmupSteps: 3 }
    close(
      [0, 1, 2, 3].map((s) => stepLearningRate(job, s)),
      [0, 1, 2, 3].map((s) => learningRate(schedule, 9 + s) * Math.min(1, (s + 1) / 3)),
      1e-12,
    )
    for (const rewarmupSteps of [undefined, 0])
      close(
        [0, 1, 2].map((s) => stepLearningRate({ schedule, stepOffset: 9, rewarmupSteps }, s)),
        [0, 1, 2].map((s) => learningRate(schedule, 9 + s)),
        1e-12,
      )
  })
})
