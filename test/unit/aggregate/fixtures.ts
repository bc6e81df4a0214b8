/** Helpers shared by the aggregation tests: encoders, seeded Gaussians, distances. */
import assert from 'node:assert/strict'
import { encode } from '../../../core/engine/compress/codec.js'
import { compressOnce } from '../../../core/engine/compress/error-feedback.js'
import { seededRandom } from '../../../core/engine/model/init.js'
import type { WeightedUpdate } from '../../../core/aggregate/types.js'

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const v = Float32Array.from(values)
  return encode({ method: 'f32', n: v.length, values: v })
}

export function int8Bytes(values: Float32Array, blockSize = 256): Uint8Array {
  return encode(compressOnce(values, { method: 'int8', blockSize }))
}

export function topkBytes(values: Float32Array, fraction: number): Uint8Array {
  return encode(compressOnce(values, { method: 'topk', fraction }))
}

/** Dense updates from plain arrays, as f32 bytes, with weights (default 1). */
export function updates(rows: number[][], weights?: number[]): WeightedUpdate[] {
  return rows.map((r, i) => ({ update: f32Bytes(r), weight: weights?.[i] ?? 1 }))
}

export function gaussianSource(seed: number): () => number {
  const r = seededRandom(seed)
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2
  return Math.sqrt(s)
}

export function norm(a: ArrayLike<number>): number {
  return distance(a, new Float64Array(a.length))
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6) {
  assert.equal(actual.length, expected.length, 'length')
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number
    const e = expected[i] as number
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `[${i}]: ${a} ≠ ${e}`)
  }
}

export function bytesOf(x: Float32Array): Buffer {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength)
}
