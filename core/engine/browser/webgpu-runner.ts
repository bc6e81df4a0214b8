/**
 * The engine's browser host: runs the same inner loop (the same code as the Node workers) on
 * Chromium's WebGPU, as in the Electron app's hidden training window. Runtime-neutral apart from
 * `navigator.gpu`; no Node APIs.
 */
import { TandemError } from '../../api/errors.js'
import { registerWebgpuBackend, settleWebgpu } from '../backends/webgpu-device.js'
import type { Batch } from '../batch.js'
import { lossAndGradients, runInnerLoop, type InnerJob, type InnerResult } from '../inner-loop.js'
import * as tf from '../tf.js'

export interface BrowserGpuInfo {
  available: boolean
  detail: string
  device?: string
}

type GpuLike = Parameters<typeof registerWebgpuBackend>[0]

const navigatorGpu = (): GpuLike | undefined =>
  (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu

export async function probeBrowserWebgpu(): Promise<BrowserGpuInfo> {
  const gpu = navigatorGpu()
  if (!gpu)
    return { available: false, detail: 'this browser exposes no WebGPU (navigator.gpu is missing)' }
  const adapter = await gpu.requestAdapter()
  if (!adapter) return { available: false, detail: 'no WebGPU adapter' }
  const info = (adapter.info ?? {}) as Record<string, string | undefined>
  // tfjs' webgpu kernels, and its backend on our device request (every adapter limit, errors captured).
  await import('@tensorflow/tfjs-backend-webgpu')
  registerWebgpuBackend(gpu)
  const device =
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
    'WebGPU adapter'
  return { available: true, detail: 'adapter found', device }
}

/** Runs one inner loop on WebGPU over the given batches (one per step). */
export async function runOnWebgpu(
  job: InnerJob,
  batches: Batch[],
): Promise<InnerResult & { device: string }> {
  const probe = await probeBrowserWebgpu()
  if (!probe.available)
    throw new TandemError('ENGINE_BACKEND_UNAVAILABLE', `webgpu: ${probe.detail}`)
  if (!(await tf.setBackend('webgpu')))
    throw new TandemError('ENGINE_BACKEND_UNAVAILABLE', 'webgpu: backend failed to initialise')
  await tf.ready()
  const result = await runInnerLoop(job, {
    settle: settleWebgpu,
    nextBatch: async (step) => {
      const batch = batches[step]
      if (!batch) throw new TandemError('NOT_FOUND', `no batch for step ${step}`)
      return batch
    },
  })
  return { ...result, device: probe.device ?? 'WebGPU adapter' }
}

/** Loss and gradients of the given weights on one batch, on WebGPU: the compute without the optimizer. */
export async function gradientsOnWebgpu(
  spec: InnerJob['spec'],
  weights: Float32Array,
  batch: Batch,
): Promise<{ loss: number; grads: Float32Array }> {
  const probe = await probeBrowserWebgpu()
  if (!probe.available || !(await tf.setBackend('webgpu')))
    throw new TandemError('ENGINE_BACKEND_UNAVAILABLE', 'webgpu: backend failed to initialise')
  const result = await lossAndGradients(spec, weights, batch)
  await settleWebgpu()
  return result
}
