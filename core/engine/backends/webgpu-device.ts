/**
 * The tfjs `webgpu` backend on a GPU device we request ourselves, in Node (Dawn) and in a browser
 * alike (no Node APIs here). tfjs-backend-webgpu 4.22 requests its device with only six of the
 * adapter's limits raised, so every other limit stays at the WebGPU default: most visibly
 * maxStorageBuffersPerShaderStage = 8, under which its AddN of ≥ 8 inputs is an invalid pipeline
 * that silently returns a stale buffer. We request every limit the adapter offers.
 *
 * tfjs never watches the device for errors: a validation or out-of-memory error is only printed
 * (by Dawn, to stdout) and the op's result is garbage. Here each one is captured (the printing
 * suppressed), counted, and `settleWebgpu()` turns it, or a lost device, into a thrown error at
 * the end of the step, which the engine treats as a backend failure and falls back.
 */
import * as tf from '../tf.js'
import '../optim/webgpu-adamw.js' // registers the fused AdamW for this backend
import { patchWebgpuAddN } from './webgpu-addn.js'

/** The slice of the WebGPU API this module uses (core has no DOM typings). */
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>
}
interface AdapterLike {
  limits: Record<string, number>
  info?: Record<string, string>
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<DeviceLike>
}
interface ErrorEventLike {
  error: { message: string; constructor: { name: string } }
  preventDefault(): void
}
export interface DeviceLike {
  limits: Record<string, number>
  queue: { onSubmittedWorkDone(): Promise<void> }
  lost: Promise<{ reason?: string; message: string }>
  addEventListener(type: 'uncapturederror', listener: (event: ErrorEventLike) => void): void
  createBuffer(descriptor: { size: number; usage: number }): unknown
  destroy(): void
}

/** Every numeric limit in the WebGPU specification (GPUSupportedLimits). */
const LIMIT_NAMES = [
  'maxTextureDimension1D',
  'maxTextureDimension2D',
  'maxTextureDimension3D',
  'maxTextureArrayLayers',
  'maxBindGroups',
  'maxBindGroupsPlusVertexBuffers',
  'maxBindingsPerBindGroup',
  'maxDynamicUniformBuffersPerPipelineLayout',
  'maxDynamicStorageBuffersPerPipelineLayout',
  'maxSampledTexturesPerShaderStage',
  'maxSamplersPerShaderStage',
  'maxStorageBuffersPerShaderStage',
  'maxStorageTexturesPerShaderStage',
  'maxUniformBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxStorageBufferBindingSize',
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
  'maxVertexBuffers',
  'maxBufferSize',
  'maxVertexAttributes',
  'maxVertexBufferArrayStride',
  'maxInterStageShaderVariables',
  'maxColorAttachments',
  'maxColorAttachmentBytesPerSample',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const

/** The limits that matter to training, as the device reports them. */
export interface GpuLimits {
  maxBufferSize: number
  maxStorageBufferBindingSize: number
  maxStorageBuffersPerShaderStage: number
}

export interface GpuHealth {
  /** GPU errors (validation, out-of-memory, internal) captured since the device was created. */
  errors: number
  /** The first few, as `type: first line of the message`. */
  messages: string[]
  /** The last few not yet reported by settleWebgpu(). */
  recent: string[]
  /** Why the device was lost, once it is. */
  lost: string | null
}

interface Current {
  device: DeviceLike
  health: GpuHealth
  /** errors already turned into a failure by settleWebgpu(). */
  reported: number
  /** GPU programs dispatched on this device (kernels per step, for benchmarks and tests). */
  dispatches: number
}

let current: Current | null = null

/**
 * Requests a device from `gpu`'s adapter with every adapter limit (or, `defaultLimits`, none: only
 * to pin tfjs' own behaviour in tests) and watches it for errors and loss.
 */
export async function requestWatchedDevice(
  gpu: GpuLike,
  defaultLimits = false,
): Promise<{ device: DeviceLike; info: Record<string, string>; health: GpuHealth }> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter) throw new Error('no WebGPU adapter')
  const requiredLimits: Record<string, number> = {}
  if (!defaultLimits) {
    for (const name of LIMIT_NAMES) {
      const value = adapter.limits[name]
      if (typeof value === 'number') requiredLimits[name] = value
    }
  }
  const device = await adapter.requestDevice({ requiredLimits })
  const health: GpuHealth = { errors: 0, messages: [], recent: [], lost: null }
  device.addEventListener('uncapturederror', (event) => {
    // Handled: without preventDefault Dawn prints it to stdout.
    event.preventDefault()
    health.errors++
    const kind = event.error.constructor.name.replace(/^GPU|Error$/g, '') || 'GPU'
    const line = `${kind}: ${event.error.message.split('\n')[0]?.slice(0, 300)}`
    if (health.messages.length < 5) health.messages.push(line)
    if (health.recent.length < 3) health.recent.push(line)
  })
  void device.lost.then((info) => {
    health.lost = `${info.reason ?? 'unknown'}: ${info.message || 'no message'}`
  })
  return { device, info: adapter.info ?? {}, health }
}

/**
 * Replaces tfjs' `webgpu` backend factory with ours (once per thread; tfjs-backend-webgpu must be
 * imported already, for its kernels). Call before the backend is first activated.
 */
export function registerWebgpuBackend(gpu: GpuLike): void {
  if (registered) return
  tf.removeBackend('webgpu')
  tf.registerBackend(
    'webgpu',
    async () => {
      const { device, info, health } = await requestWatchedDevice(gpu)
      const state: Current = { device, health, reported: 0, dispatches: 0 }
      current = state
      // Loaded here, not at the top: CPU-only workers import this module too.
      const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu')
      patchWebgpuAddN()
      const backend = new WebGPUBackend(
        device as unknown as ConstructorParameters<typeof WebGPUBackend>[0],
        info as unknown as ConstructorParameters<typeof WebGPUBackend>[1],
      )
      // Every kernel, tfjs' and ours, runs through here: count them.
      const run = backend.runWebGPUProgram.bind(backend)
      backend.runWebGPUProgram = (...args) => {
        state.dispatches++
        return run(...args)
      }
      return backend
    },
    3,
  )
  registered = true
}
let registered = false

/** The active WebGPU device's limits, or null when tfjs' backend is not ours and active. */
export function webgpuLimits(): GpuLimits | null {
  if (!current || tf.getBackend() !== 'webgpu') return null
  const l = current.device.limits
  return {
    maxBufferSize: l['maxBufferSize'] as number,
    maxStorageBufferBindingSize: l['maxStorageBufferBindingSize'] as number,
    maxStorageBuffersPerShaderStage: l['maxStorageBuffersPerShaderStage'] as number,
  }
}

/** GPU programs dispatched so far on the current WebGPU device (0 when there is none). */
export function webgpuDispatches(): number {
  return current?.dispatches ?? 0
}

export function webgpuHealth(): GpuHealth | null {
  const h = current?.health
  return h ? { ...h, messages: [...h.messages], recent: [...h.recent] } : null
}

/**
 * At the end of a step on WebGPU: waits until the GPU has finished the submitted work (so step
 * times, and the duty cycle's pauses, count GPU time, not submission), then throws if the device
 * was lost or a GPU error happened since the last call. No-op on other backends.
 */
export async function settleWebgpu(): Promise<void> {
  if (!current || tf.getBackend() !== 'webgpu') return
  const c = current
  if (!c.health.lost) await c.device.queue.onSubmittedWorkDone()
  if (c.health.lost) throw new Error(`the GPU device was lost (${c.health.lost})`)
  const fresh = c.health.errors - c.reported
  if (fresh > 0) {
    const recent = c.health.recent.join(' | ')
    c.reported = c.health.errors
    c.health.recent = []
    throw new Error(
      `${fresh} GPU error${fresh === 1 ? '' : 's'} in this step (${c.health.errors} on this device): ${recent}`,
    )
  }
}

/** Test hooks: lose the device as a driver reset would, or cause one real validation error. */
export const webgpuFaults = {
  loseDevice(): void {
    current?.device.destroy()
  },
  validationError(): void {
    // A buffer with no usage is invalid in every WebGPU implementation.
    current?.device.createBuffer({ size: 4, usage: 0 })
  },
}
