/**
 * AdamW (decoupled weight decay) with global-norm gradient clipping, in TensorFlow.js ops so the
 * state stays on the training device. The update follows Loshchilov & Hutter:
 *   m ← β1 m + (1-β1) g,  v ← β2 v + (1-β2) g²
 *   θ ← θ - lr (m̂ / (√v̂ + ε) + λ θ)   with m̂ = m/(1-β1ᵗ), v̂ = v/(1-β2ᵗ)
 * and weight decay only on parameters marked `decay` (matrices, embeddings).
 */
import * as tf from '../tf.js'

export interface AdamWConfig {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  clipNorm: number
}

export const DEFAULT_ADAMW: AdamWConfig = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  clipNorm: 1,
}

export class AdamW {
  private readonly m: tf.Variable[]
  private readonly v: tf.Variable[]
  private t = 0

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly decay: readonly boolean[],
    private readonly cfg: AdamWConfig,
  ) {
    this.m = params.map((p) => tf.variable(tf.zerosLike(p), false))
    this.v = params.map((p) => tf.variable(tf.zerosLike(p), false))
  }

  /** Applies one step; returns the gradient's global norm before clipping (a scalar tensor). */
  step(grads: readonly tf.Tensor[], lr: number): tf.Scalar {
    this.t++
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg
    const bc1 = 1 - beta1 ** this.t
    const bc2 = 1 - beta2 ** this.t
    return tf.tidy(() => {
      const norm = globalNorm(grads)
      const scale =
        clipNorm > 0 ? tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6))) : tf.scalar(1)
      this.params.forEach((p, i) => {
        const g = tf.mul(grads[i] as tf.Tensor, scale)
        const m = this.m[i] as tf.Variable
        const v = this.v[i] as tf.Variable
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)))
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)))
        const adam = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps))
        const update =
          this.decay[i] && weightDecay > 0 ? tf.add(adam, tf.mul(p, weightDecay)) : adam
        p.assign(tf.sub(p, tf.mul(update, lr)))
      })
      return tf.keep(norm)
    })
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose()
  }
}

/** An inner optimizer: AdamW op by op (any backend) or fused (webgpu-adamw.ts). */
export interface InnerOptimizer {
  step(grads: readonly tf.Tensor[], lr: number): tf.Scalar
  dispose(): void
}

export type OptimizerFactory = (
  params: readonly tf.Variable[],
  decay: readonly boolean[],
  cfg: AdamWConfig,
) => InnerOptimizer

/**
 * Backend-specific fused optimizers register here (kept out of this file: each needs its backend's
 * program API); the op-by-op AdamW serves every other backend.
 */
export const fusedOptimizers = new Map<string, OptimizerFactory>()

export function createAdamW(
  params: readonly tf.Variable[],
  decay: readonly boolean[],
  cfg: AdamWConfig,
): InnerOptimizer {
  const fused = fusedOptimizers.get(tf.getBackend())
  return fused ? fused(params, decay, cfg) : new AdamW(params, decay, cfg)
}

export function globalNorm(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(tensors.map((g) => tf.sum(tf.square(g))))) as tf.Scalar)
}
