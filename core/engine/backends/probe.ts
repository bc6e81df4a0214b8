/**
 * Training backends, best first, and why each was or was not chosen. Node-only: it loads optional
 * native packages that may be missing or broken on a user's machine, and reports exactly what
 * happened instead of failing.
 */
import * as tf from '../tf.js'
import { cpus } from 'node:os'
import { TandemError } from '../../api/errors.js'
import { patchTransposedMatMul } from './wasm-matmul.js'
import { registerWebgpuBackend } from './webgpu-device.js'

export const BACKENDS = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const
export type BackendName = (typeof BACKENDS)[number]
export type BackendPreference = BackendName | 'auto'

export interface BackendStatus {
  name: BackendName
  available: boolean
  /** Why it is unavailable, or what was found. */
  detail: string
  device?: string
}

export interface BackendSelection {
  chosen: BackendName
  device: string
  /** Every backend better than the chosen one, with the reason it was not used. */
  skipped: BackendStatus[]
  forced: boolean
}

function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n')[0]?.slice(0, 300) ?? 'unknown error'
}

function isMissingModule(err: unknown, name: string): boolean {
  const code = (err as { code?: string })?.code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    describeError(err).includes(name)
  )
}

const cpuName = (): string => `${cpus()[0]?.model.trim() ?? 'CPU'} (${cpus().length} threads)`

/** The tfjs-node packages both register a backend called 'tensorflow'; only one may be loaded. */
async function probeTensorflow(
  pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node',
  name: BackendName,
): Promise<BackendStatus> {
  try {
    await import(pkg)
  } catch (err) {
    if (isMissingModule(err, pkg)) return { name, available: false, detail: 'not installed' }
    const what =
      name === 'tfjs-node-gpu' ? 'CUDA library failed to load' : 'libtensorflow failed to load'
    return { name, available: false, detail: `${what}: ${describeError(err)}` }
  }
  if (!tf.findBackend('tensorflow'))
    return { name, available: false, detail: 'package loaded but registered no backend' }
  return {
    name,
    available: true,
    detail: 'loaded',
    device: name === 'tfjs-node-gpu' ? 'CUDA GPU' : cpuName(),
  }
}

/** WebGPU in Node through Dawn (the `webgpu` package), when it is installed and finds an adapter. */
async function probeNodeWebgpu(): Promise<BackendStatus> {
  // Lets tests (and a person debugging) run as on a machine without a GPU adapter.
  if (process.env['TANDEM_HIDE_WEBGPU'] === '1')
    return { name: 'webgpu', available: false, detail: 'no WebGPU adapter (TANDEM_HIDE_WEBGPU=1)' }
  let dawn: { create(flags: string[]): unknown; globals: Record<string, unknown> }
  try {
    dawn = (await import('webgpu' as string)) as typeof dawn
  } catch (err) {
    if (isMissingModule(err, 'webgpu'))
      return { name: 'webgpu', available: false, detail: 'not installed' }
    return {
      name: 'webgpu',
      available: false,
      detail: `Dawn failed to load: ${describeError(err)}`,
    }
  }
  try {
    const gpu = dawn.create([]) as {
      requestAdapter(): Promise<{
        info?: { vendor?: string; architecture?: string; device?: string; description?: string }
      } | null>
    }
    const adapter = await gpu.requestAdapter()
    if (!adapter) return { name: 'webgpu', available: false, detail: 'no WebGPU adapter' }
    // tfjs-backend-webgpu looks for navigator.gpu and the WebGPU constants, as in a browser.
    Object.assign(globalThis, dawn.globals)
    const g = globalThis as unknown as { navigator?: Record<string, unknown> }
    g.navigator ??= {}
    if (!('gpu' in g.navigator)) Object.defineProperty(g.navigator, 'gpu', { value: gpu })
    const info = adapter.info ?? {}
    const device =
      [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
      'WebGPU adapter'
    await import('@tensorflow/tfjs-backend-webgpu')
    // Our device request (every adapter limit) and error capture instead of tfjs' own.
    registerWebgpuBackend(gpu as Parameters<typeof registerWebgpuBackend>[0])
    return { name: 'webgpu', available: true, detail: 'adapter found', device }
  } catch (err) {
    return { name: 'webgpu', available: false, detail: `WebGPU init failed: ${describeError(err)}` }
  }
}

async function probeWasm(): Promise<BackendStatus> {
  try {
    await import('@tensorflow/tfjs-backend-wasm')
    return {
      name: 'wasm',
      available: true,
      detail: 'WebAssembly SIMD (XNNPACK)',
      device: `${cpuName()}, 1 thread per worker`,
    }
  } catch (err) {
    return { name: 'wasm', available: false, detail: `failed to load: ${describeError(err)}` }
  }
}

async function probeCpu(): Promise<BackendStatus> {
  await import('@tensorflow/tfjs-backend-cpu')
  return { name: 'cpu', available: true, detail: 'plain JavaScript', device: cpuName() }
}

export async function probeBackend(name: BackendName): Promise<BackendStatus> {
  switch (name) {
    case 'tfjs-node-gpu':
      return probeTensorflow('@tensorflow/tfjs-node-gpu', name)
    case 'tfjs-node':
      return probeTensorflow('@tensorflow/tfjs-node', name)
    case 'webgpu':
      return probeNodeWebgpu()
    case 'wasm':
      return probeWasm()
    case 'cpu':
      return probeCpu()
  }
}

/** The tfjs backend name behind a Tandem backend name. */
export function tfjsBackendName(name: BackendName): string {
  return name === 'tfjs-node-gpu' || name === 'tfjs-node' ? 'tensorflow' : name
}

/**
 * Picks the best available backend (or the forced one), initialises it in this thread, and says why
 * each better one was passed over. `exclude` lists backends that already failed during this job.
 */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  exclude: readonly BackendName[] = [],
): Promise<BackendSelection> {
  const candidates =
    preference === 'auto' ? BACKENDS.filter((b) => !exclude.includes(b)) : [preference]
  const skipped: BackendStatus[] = []
  for (const name of candidates) {
    // tfjs-node-gpu and tfjs-node share one backend name; never load the CPU one after the GPU one failed at runtime.
    if (name === 'tfjs-node' && exclude.includes('tfjs-node-gpu')) {
      skipped.push({
        name,
        available: false,
        detail: 'skipped: tfjs-node-gpu failed in this process',
      })
      continue
    }
    const status = await probeBackend(name)
    if (status.available && (await activate(name))) {
      return { chosen: name, device: status.device ?? name, skipped, forced: preference !== 'auto' }
    }
    skipped.push(
      status.available ? { ...status, available: false, detail: 'failed to initialise' } : status,
    )
  }
  const reasons = skipped.map((s) => `${s.name}: ${s.detail}`).join('; ')
  throw new TandemError('ENGINE_BACKEND_UNAVAILABLE', `No usable training backend (${reasons})`)
}

async function activate(name: BackendName): Promise<boolean> {
  const tfName = tfjsBackendName(name)
  try {
    if (!(await tf.setBackend(tfName))) return false
    await tf.ready()
  } catch {
    return false
  }
  if (name === 'wasm') patchTransposedMatMul('wasm')
  return true
}
