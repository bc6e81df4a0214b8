/**
 * How the person's settings choose the training engine's options, and which of them forced a
 * backend (status and pre-flight say so). Engine overrides the node was started with (`--backend`,
 * tests' cpu backend) win over the settings.
 */
import type { Settings } from '../api/contract.js'
import type { BackendName } from '../engine/backends/probe.js'
import type { EngineOptions } from '../engine/engine.js'

/** The engine options for `settings`; "Use the GPU" off turns a GPU-capable choice into wasm. */
export function engineOptions(
  settings: Settings,
  overrides: Partial<EngineOptions> = {},
): EngineOptions {
  const gpuCapable =
    settings.backend === 'auto' ||
    settings.backend === 'tfjs-node-gpu' ||
    settings.backend === 'webgpu'
  const backend = !settings.useGpu && gpuCapable ? 'wasm' : settings.backend
  return {
    backend,
    maxThreads: settings.maxThreads,
    dutyCycle: settings.dutyCycle,
    ...overrides,
  }
}

/** Why the backend is `forced` (not chosen as the fastest available), in the person's words. */
export function forcedBy(
  forced: BackendName,
  settings: Settings,
  overrides: Partial<EngineOptions> = {},
): string {
  if (overrides.backend !== undefined && overrides.backend !== 'auto')
    return `this node was started with --backend ${forced}`
  if (settings.backend === forced) return `the Backend setting is ${forced}`
  return `"Use the GPU" is off`
}
