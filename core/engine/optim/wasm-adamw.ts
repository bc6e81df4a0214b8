/**
 * AdamW on the wasm backend as one fused pass over each parameter, in the backend's own WebAssembly
 * memory: a hand-written WebAssembly SIMD kernel (wasm-simd-kernel.ts) reads the gradient and the
 * weights where tfjs keeps them, updates both moments in place (they are tensors in that memory
 * too), and writes the new weights into a fresh tensor that the variable then takes. The tfjs-ops
 * AdamW (adamw.ts) costs about 15 kernel launches per parameter tensor plus the global norm; this
 * is one call per tensor (and one for its sum of squares), four floats per instruction.
 *
 * Weights are never written in place: the wasm backend caches XNNPACK matmul operators, with the
 * weights packed into them, by tensor id, so a weight changed under the same id would train on
 * stale packed weights (a test here caught exactly that). A new tensor per step invalidates them.
 *
 * Arithmetic: float32 throughout, in the order the listing in wasm-simd-kernel.ts gives; the last
 * n mod 4 elements (and every element where WebAssembly SIMD is missing) are computed in JavaScript
 * with Math.fround after each operation, which is the same float32 arithmetic bit for bit. It
 * agrees with the tfjs-ops AdamW within float rounding and is deterministic.
 *
 * It relies on the wasm backend's internals (tensor → memory offset, the module's memory), which
 * tfjs 4.22 has; `supported()` checks for them, and the op-by-op AdamW serves otherwise.
 */
import * as tf from '../tf.js'
import { AdamW, fusedOptimizers, type AdamWConfig, type InnerOptimizer } from './adamw.js'
import { isWasmMemory, simdKernels, type SimdKernels } from './wasm-simd-kernel.js'

interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined }
  wasm: { HEAPF32: Float32Array; asm?: { memory?: unknown } }
}

function internals(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null
  const b = tf.backend() as unknown as Partial<WasmBackendInternals>
  if (!b.dataIdMap || typeof b.dataIdMap.get !== 'function') return null
  if (!(b.wasm?.HEAPF32 instanceof Float32Array)) return null
  return b as WasmBackendInternals
}

function offset(b: WasmBackendInternals, t: tf.Tensor): number {
  const info = b.dataIdMap.get(t.dataId)
  if (!info) throw new Error('wasm AdamW: tensor has no data on the wasm backend')
  return info.memoryOffset
}

/** The backend's float32 view of a tensor's data; re-read each time (memory growth moves it). */
function view(b: WasmBackendInternals, t: tf.Tensor): Float32Array {
  return new Float32Array(b.wasm.HEAPF32.buffer, offset(b, t), t.size)
}

const f = Math.fround

export class WasmAdamW implements InnerOptimizer {
  private readonly m: tf.Tensor[]
  private readonly v: tf.Tensor[]
  private readonly backend: WasmBackendInternals
  private readonly kernels: SimdKernels | null
  private t = 0

  /** Whether the current backend is wasm with the internals this needs. */
  static supported(): boolean {
    return internals() !== null
  }

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly decay: readonly boolean[],
    private readonly cfg: AdamWConfig,
    /** Tests: force the JavaScript path (no SIMD kernel). */
    opts: { simd?: boolean } = {},
  ) {
    const b = internals()
    if (!b) throw new Error('wasm AdamW needs the wasm backend')
    this.backend = b
    const memory = b.wasm.asm?.memory
    this.kernels = opts.simd !== false && isWasmMemory(memory) ? simdKernels(memory) : null
    this.m = params.map((p) => tf.zerosLike(p))
    this.v = params.map((p) => tf.zerosLike(p))
  }

  /** Whether the SIMD kernel runs (else the float32-exact JavaScript loop). */
  get simd(): boolean {
    return this.kernels !== null
  }

  /** Applies one step; returns the gradient's global norm before clipping (a scalar tensor). */
  step(grads: readonly tf.Tensor[], lr: number): tf.Scalar {
    return tf.scalar(this.stepNorm(grads, lr))
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v])
  }

  /** Applies one step; returns the gradient's global norm before clipping. */
  stepNorm(grads: readonly tf.Tensor[], lr: number): number {
    this.t++
    const b = this.backend
    const k = this.kernels
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg
    let sumSq = 0
    for (const g of grads) {
      const simdBytes = k ? (g.size >> 2) << 4 : 0
      if (k) sumSq += k.sumsq(offset(b, g), simdBytes)
      const data = view(b, g)
      for (let i = simdBytes >> 2; i < data.length; i++) sumSq += (data[i] as number) ** 2
    }
    const norm = Math.sqrt(sumSq)
    const scale = f(clipNorm > 0 ? Math.min(1, clipNorm / (norm + 1e-6)) : 1)
    const c = {
      b1: f(beta1),
      c1: f(1 - beta1),
      b2: f(beta2),
      c2: f(1 - beta2),
      ibc1: f(1 / (1 - beta1 ** this.t)),
      ibc2: f(1 / (1 - beta2 ** this.t)),
      eps: f(eps),
      lr: f(lr),
    }
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j] as tf.Variable
      const g = grads[j] as tf.Tensor
      const m = this.m[j] as tf.Tensor
      const v = this.v[j] as tf.Tensor
      const wd = f(this.decay[j] && weightDecay > 0 ? weightDecay : 0)
      const out = tf.zerosLike(p)
      const simdBytes = k ? (p.size >> 2) << 4 : 0
      if (k) {
        k.adamw(
          offset(b, g),
          offset(b, m),
          offset(b, v),
          offset(b, p),
          offset(b, out),
          simdBytes,
          scale,
          c.b1,
          c.c1,
          c.b2,
          c.c2,
          c.ibc1,
          c.ibc2,
          c.eps,
          c.lr,
          wd,
        )
      }
      // The tail (and everything without SIMD): the same float32 operations, one at a time.
      const [gv, mv, vv, wv, ov] = [g, m, v, p, out].map((t) => view(b, t)) as Float32Array[]
      for (let i = simdBytes >> 2; i < p.size; i++) {
        const gi = f((gv![i] as number) * scale)
        const mi = f(f(c.b1 * (mv![i] as number)) + f(c.c1 * gi))
        const vi = f(f(c.b2 * (vv![i] as number)) + f(f(gi * gi) * c.c2))
        mv![i] = mi
        vv![i] = vi
        const wi = wv![i] as number
        const adam = f(f(mi * c.ibc1) / f(f(Math.sqrt(f(vi * c.ibc2))) + c.eps))
        ov![i] = f(wi - f(f(adam + f(wd * wi)) * c.lr))
      }
      p.assign(out)
      out.dispose()
    }
    return norm
  }
}

fusedOptimizers.set('wasm', (params, decay, cfg) =>
  WasmAdamW.supported() ? new WasmAdamW(params, decay, cfg) : new AdamW(params, decay, cfg),
)
