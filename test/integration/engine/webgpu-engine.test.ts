/**
 * The training engine (worker threads) on Node's WebGPU: a GPU error or a lost device turns the
 * round into a backend failure and the round reruns on the next backend; a job that cannot fit on
 * the device is refused up front; pause, stop and the duty cycle work as on the CPU backends.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TrainingEngine, type EngineOptions } from '../../../core/engine/engine.js'
import type { StepInfo } from '../../../core/engine/inner-loop.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { computeShare, innerJob, syntheticData, tinyMlp } from '../../support/engine-fixtures.js'
import { noWebgpuAdapter } from '../../support/webgpu-node.js'

/**
 * auto over webgpu, then wasm, whatever else this machine has installed. auto ranks by measured
 * speed (and on llvmpipe wasm measures faster), so the ranking is given: these tests are about
 * what happens after webgpu fails.
 */
const GPU_THEN_WASM: EngineOptions = {
  backend: 'auto',
  exclude: ['tfjs-node-gpu', 'tfjs-node'],
  measurer: async (name) => {
    const samplesPerSec = name === 'webgpu' ? 2 : name === 'wasm' ? 1 : null
    return { samplesPerSec, msPerStep: 1, steps: 1, detail: 'measured' }
  },
}

function request(spec = tinyMlp(), steps = 8, batchSize = 8) {
  return {
    job: innerJob(spec, steps),
    batchSize,
    openData: () => syntheticData(spec, batchSize, 9),
  }
}

describe('training engine on WebGPU (Dawn)', { skip: noWebgpuAdapter }, () => {
  for (const [kind, pattern] of [
    ['gpu-error', /webgpu failed: 1 GPU error in this step .*Validation: .*usage/i],
    ['device-lost', /webgpu failed: .*(lost|destroyed)/i],
  ] as const) {
    it(`${kind} mid-round: the round reruns on the next backend and equals a clean run there`, async () => {
      const engine = new TrainingEngine(GPU_THEN_WASM)
      const fallbacks: unknown[] = []
      engine.on('fallback', (f) => fallbacks.push(f))
      const outcome = await engine.train({
        ...request(),
        fault: { backend: 'webgpu', step: 2, kind },
      })
      assert.equal(outcome.failures[0]?.backend, 'webgpu')
      assert.match(outcome.failures[0]?.message ?? '', pattern)
      assert.equal(outcome.backend.chosen, 'wasm')
      assert.equal(fallbacks.length, 1)
      const clean = await new TrainingEngine({ backend: 'wasm' }).train(request())
      assert.deepEqual(Buffer.from(outcome.delta.buffer), Buffer.from(clean.delta.buffer))
    })
  }

  it('refuses a job that cannot fit on the GPU, with the numbers; auto then uses the next backend', async () => {
    const forced = new TrainingEngine({ backend: 'webgpu', gpuMemoryLimitBytes: 1024 })
    await assert.rejects(forced.train(request()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENGINE_OUT_OF_MEMORY')
      assert.match(
        err.message,
        /needs about [\d.]+ KB of GPU memory \(weights, gradients and optimizer state [\d.]+ KB, activations [\d.]+ KB\); the GPU budget is 1\.0 KB/,
      )
      return true
    })
    // One tensor larger than any device binds: a batch of 65,536 rows of 65,536 inputs (16 GiB).
    // Refused before any data is read or anything is allocated.
    const wide = parseSpec({ type: 'mlp', inputSize: 65_536, hidden: [2], classes: 2 })
    await assert.rejects(
      new TrainingEngine({ backend: 'webgpu', memoryLimitBytes: 2 ** 50 }).train(
        request(wide, 1, 65_536),
      ),
      /largest tensor needs 16384\.0 MB in one GPU buffer; .* allows [\d.]+ MB per buffer/,
    )
    const auto = new TrainingEngine({ ...GPU_THEN_WASM, gpuMemoryLimitBytes: 1024 })
    const outcome = await auto.train(request())
    assert.equal(outcome.backend.chosen, 'wasm')
    assert.match(outcome.failures[0]?.message ?? '', /GPU budget/)
  })

  it('pauses, resumes and stops on the GPU', async () => {
    const engine = new TrainingEngine({ backend: 'webgpu' })
    const steps: number[] = []
    engine.on('step', () => steps.push(performance.now()))
    const training = engine.train(request(tinyMlp(), 10_000))
    await new Promise<void>((resolve) =>
      engine.on('step', (i: StepInfo) => (i.step === 3 ? resolve() : undefined)),
    )
    engine.pause()
    await new Promise((r) => setTimeout(r, 500))
    const count = steps.length
    await new Promise((r) => setTimeout(r, 400))
    assert.equal(steps.length, count, 'training continued while paused')
    engine.resume()
    await new Promise((r) => setTimeout(r, 300))
    assert.ok(steps.length > count, 'training did not resume')
    engine.stop()
    await assert.rejects(training, { code: 'ENGINE_STOPPED' })
  })

  it('a 50% duty cycle spends about half of the wall time computing (GPU time included)', async () => {
    const engine = new TrainingEngine({ backend: 'webgpu', dutyCycle: 0.5 })
    const ratio = await computeShare(engine, request(tinyMlp(), 25, 32))
    assert.ok(ratio > 0.35 && ratio < 0.65, `compute/wall = ${ratio.toFixed(2)}`)
  })
})
