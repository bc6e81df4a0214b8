/**
 * A faster BatchMatMul for the wasm backend. Its XNNPACK kernel is quick for plain A·B but about ten
 * times slower when asked for Aᵀ·B or A·Bᵀ, and backpropagation through every dense layer and
 * attention score asks for exactly those (measured in ENVIRONMENT.md: 6.4 ms plain vs 48-62 ms
 * transposed for 256×784·784×256). Transposing the operand explicitly first costs well under a
 * millisecond, so we wrap the kernel: transpose, then multiply plainly. Results are identical up to
 * float summation order, and deterministic.
 */
import * as tf from '../tf.js'

const patched = new Set<string>()

export function patchTransposedMatMul(backendName: string): void {
  if (patched.has(backendName)) return
  const original = tf.getKernel('BatchMatMul', backendName)
  const transpose = tf.getKernel('Transpose', backendName)
  if (!original || !transpose) return
  tf.unregisterKernel('BatchMatMul', backendName)
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
      const attrs = args.attrs as { transposeA: boolean; transposeB: boolean }
      if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args)
      const backend = args.backend as tf.KernelBackend
      const flip = (x: tf.TensorInfo): tf.TensorInfo => {
        const perm = x.shape.map((_, i) => i)
        const n = perm.length
        ;[perm[n - 2], perm[n - 1]] = [perm[n - 1] as number, perm[n - 2] as number]
        return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo
      }
      const at = attrs.transposeA ? flip(a) : a
      const bt = attrs.transposeB ? flip(b) : b
      const out = original.kernelFunc({
        inputs: { a: at, b: bt },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      })
      if (at !== a) backend.disposeData(at.dataId)
      if (bt !== b) backend.disposeData(bt.dataId)
      return out
    },
  })
  patched.add(backendName)
}
