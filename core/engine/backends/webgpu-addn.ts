/**
 * A safe AddN for tfjs' WebGPU backend. Its AddNPackedProgram binds every input plus the output as
 * storage buffers in one shader stage; with more than maxStorageBuffersPerShaderStage − 1 inputs the
 * pipeline is invalid, nothing is dispatched, no exception is raised, and the result is whatever a
 * pooled buffer held (tf.addN of 1..8 gave 28, not 36, under the WebGPU default limit of 8). AdamW's
 * global gradient norm sums one square-sum per parameter tensor with AddN, so every model with
 * enough tensors was clipped with a garbage norm. We wrap the kernel: inputs beyond the device's
 * limit are summed in chunks that fit, in a fixed order (deterministic), then the partial sums.
 */
import * as tf from '../tf.js'

let patched = false

export function patchWebgpuAddN(): void {
  if (patched) return
  const original = tf.getKernel('AddN', 'webgpu')
  if (!original) return
  tf.unregisterKernel('AddN', 'webgpu')
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const inputs = args.inputs as unknown as tf.TensorInfo[]
      const backend = args.backend as tf.KernelBackend & {
        device: { limits: { maxStorageBuffersPerShaderStage: number } }
      }
      const max = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1)
      if (inputs.length <= max) return original.kernelFunc(args)
      let level = inputs
      const made: tf.TensorInfo[] = []
      while (level.length > max) {
        const next: tf.TensorInfo[] = []
        for (let i = 0; i < level.length; i += max) {
          const chunk = level.slice(i, i + max)
          if (chunk.length === 1) next.push(chunk[0] as tf.TensorInfo)
          else {
            const sum = original.kernelFunc({
              ...args,
              inputs: chunk as unknown as tf.NamedTensorInfoMap,
            }) as tf.TensorInfo
            made.push(sum)
            next.push(sum)
          }
        }
        level = next
      }
      const out = original.kernelFunc({
        ...args,
        inputs: level as unknown as tf.NamedTensorInfoMap,
      })
      for (const t of made) backend.disposeData(t.dataId)
      return out
    },
  })
  patched = true
}
