/**
 * The engine's browser host: runs the same inner loop (the same code as the Node workers) on
 * Chromium's WebGPU, as in the Electron app's hidden training window. Runtime-neutral apart from
 * `navigator.gpu`; no Node APIs.
 */
import '@tensorflow/tfjs-backend-webgpu'
import { TandemError } from '../../api/errors.js'
import type { Batch } from '../batch.js'
import { lossAndGradients, runInnerLoop, type InnerJob, type InnerResult } from '../inner-loop.js'
import * as tf from '../tf.js'

export interface BrowserGpuInfo {
  available: boolean
  detail: string
  device?: string
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string }
}

export async function probeBrowserWebgpu(): Promise<BrowserGpuInfo> {
  const gpu = (
    globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } }
  ).navigator?.gpu
  if (!gpu)
    return { available: false, detail: 'this browser exposes no WebGPU (navigator.gpu is missing)' }
  const adapter = await gpu.requestAdapter()
  if (!adapter) return { available: false, detail: 'no WebGPU adapter' }
  const info = adapter.info ?? {}
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
  if (!(await tf.setBackend('webgpu')))
    throw new TandemError('ENGINE_BACKEND_UNAVAILABLE', 'webgpu: backend failed to initialise')
  return lossAndGradients(spec, weights, batch)
}
