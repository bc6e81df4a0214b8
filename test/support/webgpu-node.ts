/**
 * Node's WebGPU (Dawn, the `webgpu` package) for tests: whether this machine has an adapter, and
 * the reason to skip where it has none. CI installs Mesa ≥ 25 (llvmpipe) so it has one there.
 */
import { probeBackend } from '../../core/engine/backends/probe.js'

const status = await probeBackend('webgpu')

/** A reason to skip WebGPU tests, or undefined when Dawn finds an adapter. */
export const noWebgpuAdapter = status.available
  ? undefined
  : `no WebGPU adapter in Node (${status.detail}); .ci/run installs Mesa >= 25 from bookworm-backports for one`

export const webgpuDevice = status.device ?? 'none'
