/**
 * The engine on Node's WebGPU (Dawn; llvmpipe in CI): our device and AddN give exact sums, and a
 * whole 50-step inner loop of an MLP, a CNN and a transformer (each with ≥ 8 parameter tensors)
 * matches the wasm backend. Before the AddN fix (webgpu-addn.ts) AdamW clipped with a garbage norm
 * and these diverged: measured Δ differences of 1.6 × max|Δ| (CNN) and 4e5 × (transformer).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import {
  settleWebgpu,
  webgpuDispatches,
  webgpuHealth,
} from '../../../core/engine/backends/webgpu-device.js'
import type { Batch } from '../../../core/engine/batch.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { createAdamW, DEFAULT_ADAMW, fusedOptimizers } from '../../../core/engine/optim/adamw.js'
import type { ModelSpec } from '../../../core/engine/spec/schema.js'
import * as tf from '../../../core/engine/tf.js'
import {
  deepMlp,
  innerJob,
  syntheticBatch,
  tinyTransformer,
  twoConvCnn,
} from '../../support/engine-fixtures.js'
import { noWebgpuAdapter } from '../../support/webgpu-node.js'

/** Δ may differ by this fraction of max|Δ| after 50 steps (measured here: ≤ 2e-5). */
const DELTA_TOLERANCE = 1e-3
/** Per-step losses may differ by this much (measured here: ≤ 5e-7). */
const LOSS_TOLERANCE = 1e-4
const STEPS = 50

async function run(backend: 'wasm' | 'webgpu', spec: ModelSpec, batches: Batch[]) {
  await selectBackend(backend)
  return runInnerLoop(innerJob(spec, batches.length), {
    nextBatch: async (s) => batches[s] as Batch,
    settle: settleWebgpu,
  })
}

describe('engine on WebGPU in Node (Dawn)', { skip: noWebgpuAdapter }, () => {
  it('AddN sums any number of inputs exactly, with no GPU error', async () => {
    await selectBackend('webgpu')
    for (const n of [2, 7, 8, 9, 16, 17, 40]) {
      const sum = tf.tidy(() => tf.addN(Array.from({ length: n }, (_, i) => tf.fill([3], i + 1))))
      assert.deepEqual(Array.from(await sum.data()), Array(3).fill((n * (n + 1)) / 2), `n = ${n}`)
      sum.dispose()
    }
    await settleWebgpu()
    assert.equal(webgpuHealth()?.errors, 0)
  })

  it('audit: concat of many inputs (split by tfjs itself) stays exact', async () => {
    await selectBackend('webgpu')
    const out = tf.tidy(() => tf.concat(Array.from({ length: 40 }, (_, i) => tf.fill([2], i))))
    assert.deepEqual(
      Array.from(await out.data()),
      Array.from({ length: 80 }, (_, i) => Math.floor(i / 2)),
    )
    out.dispose()
    await settleWebgpu()
  })

  for (const [name, spec, batch] of [
    ['MLP (10 tensors)', deepMlp(), 8],
    ['CNN (8 tensors)', twoConvCnn(), 4],
    ['transformer LM', tinyTransformer(), 4],
  ] as const) {
    it(`${name}: ${STEPS} inner steps match wasm (loss and Δ)`, async () => {
      const batches = Array.from({ length: STEPS }, (_, s) => syntheticBatch(spec, batch, 500 + s))
      const wasm = await run('wasm', spec, batches)
      const gpu = await run('webgpu', spec, batches)
      const scale = Math.max(...Array.from(wasm.delta, Math.abs))
      let diff = 0
      for (let i = 0; i < wasm.delta.length; i++)
        diff = Math.max(diff, Math.abs((gpu.delta[i] as number) - (wasm.delta[i] as number)))
      assert.ok(
        diff <= DELTA_TOLERANCE * scale,
        `max |Δgpu − Δwasm| = ${diff}, ${(diff / scale).toExponential(2)} of max |Δ| ${scale}`,
      )
      gpu.losses.forEach((l, i) =>
        assert.ok(
          Math.abs(l - (wasm.losses[i] as number)) <= LOSS_TOLERANCE,
          `loss at step ${i}: ${l} on webgpu vs ${wasm.losses[i]} on wasm`,
        ),
      )
      assert.equal(webgpuHealth()?.errors, 0)
    })
  }

  it('the fused AdamW (webgpu-adamw.ts) equals the op-by-op AdamW in half the dispatches', async () => {
    const spec = tinyTransformer()
    const batches = Array.from({ length: 10 }, (_, s) => syntheticBatch(spec, 4, 700 + s))
    const fused = fusedOptimizers.get('webgpu')
    assert.ok(fused, 'the fused AdamW is registered for webgpu')
    try {
      await selectBackend('webgpu')
      let before = webgpuDispatches()
      const a = await run('webgpu', spec, batches)
      const fusedDispatches = webgpuDispatches() - before
      fusedOptimizers.delete('webgpu')
      before = webgpuDispatches()
      const b = await run('webgpu', spec, batches)
      const dispatches = webgpuDispatches() - before
      assert.ok(
        fusedDispatches < 0.7 * dispatches,
        `fused: ${fusedDispatches} dispatches, op by op: ${dispatches}`,
      )
      const scale = Math.max(...Array.from(b.delta, Math.abs))
      let diff = 0
      for (let i = 0; i < a.delta.length; i++)
        diff = Math.max(diff, Math.abs((a.delta[i] as number) - (b.delta[i] as number)))
      assert.ok(diff <= 1e-6 * scale, `fused vs op by op: ${diff} of max |Δ| ${scale}`)
      a.losses.forEach((l, i) => assert.ok(Math.abs(l - (b.losses[i] as number)) <= 1e-6))
    } finally {
      fusedOptimizers.set('webgpu', fused)
    }
  })

  it('the fused AdamW handles tensors beyond one dispatch row (2D dispatch)', async () => {
    await selectBackend('webgpu')
    // 65,535 workgroups × 64 threads is the most a 1D dispatch covers; this tensor needs more.
    const n = 65_535 * 64 + 1000
    const init = new Float32Array(n).map((_, i) => Math.sin(i))
    const grad = new Float32Array(n).map((_, i) => Math.cos(i * 0.7))
    const results: Float32Array[] = []
    const fused = fusedOptimizers.get('webgpu')
    try {
      for (const useFused of [true, false]) {
        if (useFused && fused) fusedOptimizers.set('webgpu', fused)
        else fusedOptimizers.delete('webgpu')
        const p = tf.variable(tf.tensor1d(init))
        const opt = createAdamW([p], [true], DEFAULT_ADAMW)
        const g = tf.tensor1d(grad)
        for (let step = 0; step < 2; step++) tf.dispose(opt.step([g], 1e-2))
        results.push((await p.data()) as Float32Array)
        tf.dispose([p, g])
        opt.dispose()
      }
    } finally {
      if (fused) fusedOptimizers.set('webgpu', fused)
    }
    const [a, b] = results as [Float32Array, Float32Array]
    let diff = 0
    for (let i = 0; i < n; i++) diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)))
    assert.ok(diff <= 1e-6, `fused vs op by op: max difference ${diff}`)
    assert.notDeepEqual(a.subarray(n - 10), init.subarray(n - 10), 'the last values were updated')
    await settleWebgpu()
  })

  it('is deterministic: the same job twice gives a bit-identical Δ', async () => {
    const spec = tinyTransformer()
    const batches = Array.from({ length: 6 }, (_, s) => syntheticBatch(spec, 4, 900 + s))
    const a = await run('webgpu', spec, batches)
    const b = await run('webgpu', spec, batches)
    assert.deepEqual(Buffer.from(a.delta.buffer), Buffer.from(b.delta.buffer))
  })
})
