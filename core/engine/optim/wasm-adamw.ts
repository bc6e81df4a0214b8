/**
 * AdamW on the wasm backend as one fused pass over each parameter: gradients and weights are read
 * in place in the backend's own WebAssembly memory (no copies, no kernel launches), the moments
 * live in plain Float32Arrays, and each new weight tensor is written once and assigned. The tfjs-ops
 * AdamW (adamw.ts) costs about 15 kernel launches per parameter tensor plus the global norm; this
 * is one loop per tensor.
 *
 * Weights are never written in place: the wasm backend caches XNNPACK matmul operators, with the
 * weights packed into them, by tensor id, so a weight changed under the same id would train on
 * stale packed weights (a test here caught exactly that). A new tensor per step invalidates them.
 *
 * Same update as adamw.ts (decoupled weight decay on `decay` tensors, global-norm clipping, bias
 * correction), computed in double precision and stored as float32, so it agrees with the tfjs-ops
 * version within float rounding; it is deterministic (same inputs, same bits).
 *
 * It relies on the wasm backend's internals (tensor → memory offset, the module's heap), which
 * tfjs 4.22 has; `supported()` checks for them and the caller falls back to adamw.ts otherwise.
 */
import * as tf from '../tf.js'
import { AdamW, fusedOptimizers, type AdamWConfig, type InnerOptimizer } from './adamw.js'

interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined }
  wasm: { HEAPF32: Float32Array }
}

function internals(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null
  const b = tf.backend() as unknown as Partial<WasmBackendInternals>
  if (!b.dataIdMap || typeof b.dataIdMap.get !== 'function') return null
  if (!(b.wasm?.HEAPF32 instanceof Float32Array)) return null
  return b as WasmBackendInternals
}

/** The backend's float32 view of a tensor's data (valid until the next allocation may grow memory). */
function view(b: WasmBackendInternals, t: tf.Tensor): Float32Array {
  const info = b.dataIdMap.get(t.dataId)
  if (!info) throw new Error('wasm AdamW: tensor has no data on the wasm backend')
  // Re-read the heap each time: a memory growth replaces the buffer.
  return new Float32Array(b.wasm.HEAPF32.buffer, info.memoryOffset, t.size)
}

export class WasmAdamW implements InnerOptimizer {
  private readonly m: Float32Array[]
  private readonly v: Float32Array[]
  /** The next weights of each tensor, before they become a tensor. */
  private readonly next: Float32Array[]
  private readonly backend: WasmBackendInternals
  private t = 0

  /** Whether the current backend is wasm with the internals this needs. */
  static supported(): boolean {
    return internals() !== null
  }

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly decay: readonly boolean[],
    private readonly cfg: AdamWConfig,
  ) {
    const b = internals()
    if (!b) throw new Error('wasm AdamW needs the wasm backend')
    this.backend = b
    this.m = params.map((p) => new Float32Array(p.size))
    this.v = params.map((p) => new Float32Array(p.size))
    this.next = params.map((p) => new Float32Array(p.size))
  }

  /** Applies one step; returns the gradient's global norm before clipping (a scalar tensor). */
  step(grads: readonly tf.Tensor[], lr: number): tf.Scalar {
    return tf.scalar(this.stepNorm(grads, lr))
  }

  /** Nothing on the device to free: the moments are Float32Arrays. */
  dispose(): void {}

  /** Applies one step; returns the gradient's global norm before clipping. */
  stepNorm(grads: readonly tf.Tensor[], lr: number): number {
    this.t++
    const b = this.backend
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg
    let sumSq = 0
    for (const g of grads) {
      const data = view(b, g)
      let s = 0
      for (let i = 0; i < data.length; i++) {
        const x = data[i] as number
        s += x * x
      }
      sumSq += s
    }
    const norm = Math.sqrt(sumSq)
    const scale = clipNorm > 0 ? Math.min(1, clipNorm / (norm + 1e-6)) : 1
    const bc1 = 1 - beta1 ** this.t
    const bc2 = 1 - beta2 ** this.t
    const c1 = 1 - beta1
    const c2 = 1 - beta2
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k] as tf.Variable
      const g = view(b, grads[k] as tf.Tensor)
      const w = view(b, p)
      const out = this.next[k] as Float32Array
      const m = this.m[k] as Float32Array
      const v = this.v[k] as Float32Array
      const wd = this.decay[k] && weightDecay > 0 ? weightDecay : 0
      for (let i = 0; i < w.length; i++) {
        const gi = (g[i] as number) * scale
        const mi = beta1 * (m[i] as number) + c1 * gi
        const vi = beta2 * (v[i] as number) + c2 * gi * gi
        m[i] = mi
        v[i] = vi
        const wi = w[i] as number
        const update = mi / bc1 / (Math.sqrt(vi / bc2) + eps) + wd * wi
        out[i] = wi - lr * update
      }
      const t = tf.tensor(out, p.shape, 'float32')
      p.assign(t)
      t.dispose()
    }
    return norm
  }
}

fusedOptimizers.set('wasm', (params, decay, cfg) =>
  WasmAdamW.supported() ? new WasmAdamW(params, decay, cfg) : new AdamW(params, decay, cfg),
)
