/**
 * Node's WebGPU (Dawn, the `webgpu` package) for tests: whether this machine has an adapter, and
 * the reason to skip where it has none. CI installs Mesa ≥ 25 (llvmpipe) so it has one there.
 */
import { probeBackend } from '../../core/engine/backends/probe.js'
import { parseSpec } from '../../core/engine/spec/parse.js'

const status = await probeBackend('webgpu')

/** A reason to skip WebGPU tests, or undefined when Dawn finds an adapter. */
export const noWebgpuAdapter = status.available
  ? undefined
  : `no WebGPU adapter in Node (${status.detail}); .ci/run installs Mesa >= 25 from bookworm-backports for one`

export const webgpuDevice = status.device ?? 'none'

/**
 * Models with at least 8 parameter tensors: AdamW's global norm sums one square-sum per tensor, so
 * these are the models the unpatched AddN got wrong.
 */
export const deepMlp = () =>
  parseSpec({ type: 'mlp', inputSize: 12, hidden: [8, 8, 8, 8], classes: 3, activation: 'tanh' })
export const twoConvCnn = () =>
  parseSpec({
    type: 'cnn',
    input: { height: 6, width: 6, channels: 2 },
    layers: [
      { type: 'conv2d', filters: 3, kernel: 3 },
      { type: 'conv2d', filters: 3, kernel: 3 },
    ],
    dense: [5],
    classes: 3,
    activation: 'tanh',
  })
