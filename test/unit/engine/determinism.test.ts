/**
 * Same seed, data and backend ⇒ bit-identical Δ; and cpu and wasm (with our transposed-matmul
 * kernel) agree within float32 tolerance. Runs the inner loop in this thread, one backend at a time.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import type { ModelSpec } from '../../../core/engine/spec/schema.js'
import {
  innerJob,
  syntheticData,
  tinyCnn,
  tinyMlp,
  tinyTransformer,
} from '../../support/engine-fixtures.js'

async function delta(
  backend: 'cpu' | 'wasm',
  spec: ModelSpec,
  steps = 6,
): Promise<{ delta: Float32Array; losses: number[] }> {
  await selectBackend(backend)
  const data = syntheticData(spec, 8, 42)
  return runInnerLoop(innerJob(spec, steps), { nextBatch: () => data.next() })
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)))
  return m
}

const families = { mlp: tinyMlp, cnn: tinyCnn, transformer: tinyTransformer }

describe('inner loop determinism', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [name, make] of Object.entries(families)) {
      it(`${backend}: ${name} gives a bit-identical Δ on a second run`, async () => {
        const first = await delta(backend, make())
        const second = await delta(backend, make())
        assert.ok(
          first.delta.some((v) => v !== 0),
          'training did not move the weights',
        )
        assert.deepEqual(Buffer.from(first.delta.buffer), Buffer.from(second.delta.buffer))
        assert.deepEqual(first.losses, second.losses)
      })
    }
  }
})

describe('backend parity', () => {
  for (const [name, make] of Object.entries(families)) {
    it(`cpu and wasm agree on ${name} within 1e-4 (relative to the largest |Δ|)`, async () => {
      const cpu = await delta('cpu', make())
      const wasm = await delta('wasm', make())
      const scale = Math.max(...Array.from(cpu.delta, Math.abs))
      assert.ok(
        maxAbsDiff(cpu.delta, wasm.delta) <= 1e-4 * Math.max(scale, 1e-3) + 1e-6,
        `max diff ${maxAbsDiff(cpu.delta, wasm.delta)} vs scale ${scale}`,
      )
    })
  }
})

describe('training makes progress', () => {
  it('loss falls on a learnable task', async () => {
    const { losses } = await delta('wasm', tinyTransformer(), 40)
    const head = (losses.slice(0, 5).reduce((a, b) => a + b) / 5) as number
    const tail = (losses.slice(-5).reduce((a, b) => a + b) / 5) as number
    assert.ok(tail < head * 0.8, `loss ${head} → ${tail}`)
  })
})
