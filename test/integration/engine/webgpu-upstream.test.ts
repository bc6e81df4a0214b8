/**
 * Pins a fault in tfjs-backend-webgpu 4.22 as shipped (TensorFlow.js is frozen upstream; we work
 * around it in core/engine/backends/webgpu-addn.ts and webgpu-device.ts). tfjs requests its device
 * without raising maxStorageBuffersPerShaderStage, so it stays at the WebGPU default of 8, and its
 * AddN binds inputs + 1 storage buffers: with 8 or more inputs the pipeline is invalid, nothing runs,
 * no exception is raised, and the result is a stale buffer. If this test ever fails, upstream
 * changed: re-check whether our workaround is still needed.
 *
 * This file uses tfjs' own backend registration, never ours (so it does not probe through
 * core/engine/backends/probe.ts, which installs ours).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as tf from '../../../core/engine/tf.js'

async function dawn(): Promise<{ gpu: unknown; globals: Record<string, unknown> } | string> {
  if (process.env['TANDEM_HIDE_WEBGPU'] === '1') return 'WebGPU hidden (TANDEM_HIDE_WEBGPU=1)'
  try {
    const mod = (await import('webgpu' as string)) as {
      create(flags: string[]): { requestAdapter(): Promise<unknown> }
      globals: Record<string, unknown>
    }
    const gpu = mod.create([])
    if (!(await gpu.requestAdapter())) return 'no WebGPU adapter in Node'
    return { gpu, globals: mod.globals }
  } catch (err) {
    return `Dawn failed to load: ${(err as Error).message}`
  }
}

const found = await dawn()
const skip =
  typeof found === 'string'
    ? `${found}; .ci/run installs Mesa >= 25 from bookworm-backports for one`
    : undefined

describe('upstream: tfjs-backend-webgpu as shipped', { skip }, () => {
  it('AddN of 9 inputs on its own default-limits device returns a wrong sum and a GPU error', async () => {
    const { gpu, globals } = found as Exclude<typeof found, string>
    Object.assign(globalThis, globals)
    const g = globalThis as unknown as { navigator?: Record<string, unknown> }
    g.navigator ??= {}
    if (!('gpu' in g.navigator)) Object.defineProperty(g.navigator, 'gpu', { value: gpu })
    await import('@tensorflow/tfjs-backend-webgpu')
    assert.ok(await tf.setBackend('webgpu'))
    const device = (
      tf.backend() as unknown as {
        device: {
          limits: { maxStorageBuffersPerShaderStage: number }
          addEventListener(
            t: string,
            f: (e: { preventDefault(): void; error: Error }) => void,
          ): void
          queue: { onSubmittedWorkDone(): Promise<void> }
        }
      }
    ).device
    const errors: string[] = []
    device.addEventListener('uncapturederror', (e) => {
      e.preventDefault() // keeps Dawn from printing it
      errors.push(e.error.message)
    })
    assert.equal(device.limits.maxStorageBuffersPerShaderStage, 8)
    // Warm the buffer pool so the stale result is not accidentally right.
    const warm = tf.addN([tf.scalar(1), tf.scalar(2)])
    await warm.data()
    const sum = tf.addN(Array.from({ length: 9 }, (_, i) => tf.scalar(i + 1)))
    const value = (await sum.data())[0]
    await device.queue.onSubmittedWorkDone()
    assert.notEqual(value, 45, 'tfjs-webgpu AddN of 9 inputs is now right upstream')
    assert.ok(
      errors.some((m) =>
        /storage buffers \(10\).*exceeds the maximum per-stage limit \(8\)/.test(m),
      ),
      errors.join('\n'),
    )
  })
})
