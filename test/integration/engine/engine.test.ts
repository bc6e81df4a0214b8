/**
 * The training engine with real worker threads: off-main-thread training, pause/resume/stop,
 * duty cycle, backend fallback mid-run, memory refusal and data-parallel workers.
 */
import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { describe, it } from 'node:test'
import { TrainingEngine } from '../../../core/engine/engine.js'
import type { StepInfo } from '../../../core/engine/inner-loop.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import {
  computeShare,
  innerJob,
  syntheticData,
  tinyMlp,
  tinyTransformer,
} from '../../support/engine-fixtures.js'

const mlp = parseSpec({ type: 'mlp', inputSize: 64, hidden: [64], classes: 4 })

function request(spec = mlp, steps = 20, batchSize = 32) {
  return {
    job: innerJob(spec, steps),
    batchSize,
    openData: () => syntheticData(spec, batchSize, 9),
  }
}

function nextStep(
  engine: TrainingEngine,
  predicate: (info: StepInfo) => boolean,
): Promise<StepInfo> {
  return new Promise((resolve) => {
    const onStep = (info: StepInfo) => {
      if (!predicate(info)) return
      engine.off('step', onStep)
      resolve(info)
    }
    engine.on('step', onStep)
  })
}

describe('training engine (worker threads)', () => {
  it('trains off the main thread: the event loop does not stall', async () => {
    const engine = new TrainingEngine({ backend: 'wasm' })
    const spec = tinyTransformer()
    // Measured while training runs (from the first step on), not while the worker thread and its
    // TensorFlow.js are being loaded.
    const histogram = monitorEventLoopDelay({ resolution: 5 })
    engine.once('step', () => histogram.enable())
    const outcome = await engine.train({ ...request(spec, 40, 16) })
    histogram.disable()
    const maxMs = histogram.max / 1e6
    const p99Ms = histogram.percentile(99) / 1e6
    assert.equal(outcome.losses.length, 40)
    assert.ok(histogram.count > 10, 'the monitor saw too little of the training')
    // Training on this thread would stall it for whole steps every time; a loaded machine's GC
    // pause or preemption may stall it once, which the p99 tolerates.
    assert.ok(p99Ms < 50, `event loop stalled: p99 ${p99Ms.toFixed(1)} ms`)
    assert.ok(maxMs < 250, `event loop stalled ${maxMs.toFixed(1)} ms`)
  })

  it('reports the backend, the device and why better backends were not used', async () => {
    const engine = new TrainingEngine({ backend: 'auto' })
    const outcome = await engine.train(request(mlp, 2))
    assert.ok(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm'].includes(outcome.backend.chosen))
    assert.ok(outcome.backend.device.length > 0)
    for (const skipped of outcome.backend.skipped)
      assert.ok(skipped.detail.length > 0, `${skipped.name} has no reason`)
    const order = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']
    assert.deepEqual(
      outcome.backend.skipped.map((s) => s.name),
      order.slice(0, order.indexOf(outcome.backend.chosen)),
    )
  })

  it('refuses a forced backend that is not there, saying why', async (t) => {
    const engine = new TrainingEngine({ backend: 'tfjs-node-gpu' })
    try {
      await engine.train(request(mlp, 1))
      t.skip('tfjs-node-gpu is installed and working on this machine')
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'ENGINE_BACKEND_UNAVAILABLE')
      assert.match(
        (err as Error).message,
        /tfjs-node-gpu: (not installed|CUDA library failed to load)/,
      )
    }
  })

  it('pauses within a second, resumes, and finishes', async () => {
    const engine = new TrainingEngine({ backend: 'wasm' })
    const steps: number[] = []
    engine.on('step', () => steps.push(performance.now()))
    const training = engine.train(request(mlp, 40))
    await nextStep(engine, (i) => i.step === 3)
    const pausedAt = performance.now()
    engine.pause()
    // Whatever step was in flight may still report; after that, nothing while paused.
    await new Promise((r) => setTimeout(r, 600))
    const lastStep = steps.at(-1) as number
    assert.ok(lastStep - pausedAt < 1000, `a step finished ${lastStep - pausedAt} ms after pause`)
    const countWhilePaused = steps.length
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(steps.length, countWhilePaused, 'training continued while paused')
    engine.resume()
    const outcome = await training
    assert.equal(outcome.losses.length, 40)
  })

  it('stops a running or paused job with ENGINE_STOPPED', async () => {
    const engine = new TrainingEngine({ backend: 'wasm' })
    const running = engine.train(request(mlp, 10_000))
    await nextStep(engine, (i) => i.step === 2)
    engine.stop()
    await assert.rejects(running, { code: 'ENGINE_STOPPED' })

    const paused = engine.train(request(mlp, 10_000))
    await nextStep(engine, (i) => i.step === 2)
    engine.pause()
    engine.stop()
    await assert.rejects(paused, { code: 'ENGINE_STOPPED' })
  })

  it('a 50% duty cycle spends about half of the wall time computing', async () => {
    const engine = new TrainingEngine({ backend: 'wasm', dutyCycle: 0.5 })
    const ratio = await computeShare(engine, request(tinyTransformer(), 25, 16))
    assert.ok(ratio > 0.35 && ratio < 0.65, `compute/wall = ${ratio.toFixed(2)}`)
  })

  it('falls back to the next backend when one fails mid-run, and finishes the work', async () => {
    // The candidates are pinned (wasm, then cpu) whatever GPU this machine has; auto ranks them by
    // measured speed, which on a model this small may favour either, so the speeds are given.
    const engine = new TrainingEngine({
      backend: 'auto',
      exclude: ['tfjs-node-gpu', 'webgpu', 'tfjs-node'],
      measurer: async (name) => ({
        samplesPerSec: name === 'wasm' ? 2 : 1,
        msPerStep: 1,
        steps: 1,
        detail: 'measured',
      }),
    })
    const fallbacks: unknown[] = []
    engine.on('fallback', (f) => fallbacks.push(f))
    const spec = tinyMlp()
    const outcome = await engine.train({
      ...request(spec, 8, 8),
      fault: { backend: 'wasm', step: 3 },
    })
    assert.equal(outcome.backend.chosen, 'cpu')
    assert.equal(outcome.failures[0]?.backend, 'wasm')
    assert.match(outcome.failures[0]?.message ?? '', /injected wasm failure at step 3/)
    assert.equal(fallbacks.length, 1)
    assert.equal(outcome.losses.length, 8)
    // The retry starts the round over: the result equals a clean run on the fallback backend.
    const clean = await new TrainingEngine({ backend: 'cpu' }).train(request(spec, 8, 8))
    assert.deepEqual(Buffer.from(outcome.delta.buffer), Buffer.from(clean.delta.buffer))
  })

  it('refuses a job that will not fit in memory, before starting', async () => {
    const engine = new TrainingEngine({ backend: 'wasm', memoryLimitBytes: 64 * 2 ** 20 })
    await assert.rejects(engine.train(request(mlp, 1)), { code: 'ENGINE_OUT_OF_MEMORY' })
  })

  it('two data-parallel workers compute the same update as one', async () => {
    const spec = tinyMlp()
    const one = await new TrainingEngine({ backend: 'wasm', maxThreads: 1 }).train(
      request(spec, 6, 16),
    )
    const two = await new TrainingEngine({ backend: 'wasm', maxThreads: 2 }).train(
      request(spec, 6, 16),
    )
    assert.equal(two.workers, 2)
    assert.equal(two.samples, one.samples)
    let diff = 0
    let scale = 0
    for (let i = 0; i < one.delta.length; i++) {
      diff = Math.max(diff, Math.abs((one.delta[i] as number) - (two.delta[i] as number)))
      scale = Math.max(scale, Math.abs(one.delta[i] as number))
    }
    assert.ok(diff <= 1e-4 * scale + 1e-6, `Δ differs by ${diff} (scale ${scale})`)
    // Sharded across workers, the update is still deterministic run to run.
    const again = await new TrainingEngine({ backend: 'wasm', maxThreads: 2 }).train(
      request(spec, 6, 16),
    )
    assert.deepEqual(Buffer.from(again.delta.buffer), Buffer.from(two.delta.buffer))
  })
})
