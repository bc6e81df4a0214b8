/**
 * The DiLoCo outer optimizer: SGD with Nesterov momentum applied to the aggregated pseudo-gradient
 * Δ = θ_global − θ_local (PyTorch's formulation, as in the DiLoCo paper):
 *   u ← μ u + Δ
 *   θ ← θ − η (Δ + μ u)
 * Pure: returns new buffers and never mutates its inputs, so the host and a verifier replaying the
 * ledger compute bit-identical checkpoints.
 */
import { TandemError } from '../../api/errors.js'

export interface OuterConfig {
  lr: number
  momentum: number
}

export const DEFAULT_OUTER: OuterConfig = { lr: 0.7, momentum: 0.9 }

export interface OuterResult {
  weights: Float32Array
  momentum: Float32Array
}

export function nesterovOuterStep(
  weights: Float32Array,
  delta: Float32Array,
  momentum: Float32Array | null,
  cfg: OuterConfig = DEFAULT_OUTER,
): OuterResult {
  if (delta.length !== weights.length || (momentum && momentum.length !== weights.length)) {
    throw new TandemError(
      'SPEC_MISMATCH',
      'outer step: weights, delta and momentum must have the same length',
    )
  }
  const nextWeights = new Float32Array(weights.length)
  const nextMomentum = new Float32Array(weights.length)
  const { lr, momentum: mu } = cfg
  for (let i = 0; i < weights.length; i++) {
    const d = delta[i] as number
    const u = mu * (momentum ? (momentum[i] as number) : 0) + d
    nextMomentum[i] = u
    nextWeights[i] = (weights[i] as number) - lr * (d + mu * u)
  }
  return { weights: nextWeights, momentum: nextMomentum }
}
