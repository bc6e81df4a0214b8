/** The GPU memory check made before a WebGPU job's first step (no GPU needed: pure arithmetic). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { countParams } from '../../../core/engine/spec/cost.js'
import { checkGpuMemory, estimateGpuMemory } from '../../../core/engine/spec/gpu-memory.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'

const roomy = { maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 27 }

describe('GPU memory estimate and refusal', () => {
  it('counts weights, gradients and both moments on the device, and the largest tensor', () => {
    const spec = parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
    const need = estimateGpuMemory(spec, 64)
    assert.equal(need.stateBytes, countParams(spec) * 16)
    // The largest tensor is the 784×256 weight matrix (the batch's 64×784 input is smaller).
    assert.equal(need.largestTensorBytes, 784 * 256 * 4)
    assert.equal(need.totalBytes, need.stateBytes + need.activationBytes)
    assert.deepEqual(checkGpuMemory(spec, 64, 'test GPU', roomy), need)
  })

  it('refuses a tensor larger than one GPU buffer, with the numbers', () => {
    const spec = parseSpec({ type: 'mlp', inputSize: 65_536, hidden: [2], classes: 2 })
    assert.throws(
      () => checkGpuMemory(spec, 1024, 'test GPU', roomy),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ENGINE_OUT_OF_MEMORY')
        assert.match(
          err.message,
          /largest tensor needs 256\.0 MB in one GPU buffer; test GPU allows 128\.0 MB per buffer \(maxBufferSize 4294967295, maxStorageBufferBindingSize 134217728\)/,
        )
        return true
      },
    )
  })

  it('refuses a job over the GPU budget, with the numbers, and accepts it under', () => {
    const spec = parseSpec({
      type: 'transformer',
      vocab: 256,
      context: 64,
      dModel: 128,
      heads: 4,
      layers: 2,
      mlpRatio: 4,
    })
    const need = estimateGpuMemory(spec, 16)
    assert.throws(
      () => checkGpuMemory(spec, 16, 'test GPU', { ...roomy, budgetBytes: need.totalBytes - 1 }),
      /needs about [\d.]+ MB of GPU memory \(weights, gradients and optimizer state [\d.]+ MB, activations [\d.]+ MB\); the GPU budget is [\d.]+ MB/,
    )
    checkGpuMemory(spec, 16, 'test GPU', { ...roomy, budgetBytes: need.totalBytes })
  })
})
