/**
 * Error feedback: what compression dropped this round is added back before compressing the next
 * round's Δ, so nothing is lost for good, only delayed. The sum of everything sent equals the sum
 * of the true updates minus the current residual, which stays bounded.
 */
import { TandemError } from '../../api/errors.js'
import { encode, encodedSize, type Encoded } from './codec.js'
import { densify, quantizeInt8, topK } from './quantize.js'

export type CompressionConfig =
  { method: 'f32' } | { method: 'int8'; blockSize: number } | { method: 'topk'; fraction: number }

export const DEFAULT_COMPRESSION: CompressionConfig = { method: 'int8', blockSize: 256 }

export interface Compressed {
  bytes: Uint8Array
  /** What the receiver will reconstruct. */
  decoded: Float32Array
  /** Exact encoded size, equal to bytes.byteLength. */
  byteLength: number
}

export function compressOnce(x: Float32Array, cfg: CompressionConfig): Encoded {
  switch (cfg.method) {
    case 'f32':
      return { method: 'f32', n: x.length, values: x }
    case 'int8':
      return quantizeInt8(x, cfg.blockSize)
    case 'topk':
      return topK(x, Math.max(1, Math.ceil(cfg.fraction * x.length)))
  }
}

export class ErrorFeedback {
  /** The part of past updates not yet transmitted. */
  readonly residual: Float32Array

  constructor(n: number, residual?: Float32Array) {
    this.residual = residual ? Float32Array.from(residual) : new Float32Array(n)
  }

  compress(delta: Float32Array, cfg: CompressionConfig): Compressed {
    if (delta.length !== this.residual.length)
      throw new TandemError(
        'SPEC_MISMATCH',
        'delta length differs from the error-feedback residual',
      )
    const corrected = new Float32Array(delta.length)
    for (let i = 0; i < delta.length; i++)
      corrected[i] = (delta[i] as number) + (this.residual[i] as number)
    const encoded = compressOnce(corrected, cfg)
    const decoded = densify(encoded)
    for (let i = 0; i < delta.length; i++)
      this.residual[i] = (corrected[i] as number) - (decoded[i] as number)
    const bytes = encode(encoded)
    return { bytes, decoded, byteLength: encodedSize(encoded) }
  }
}
