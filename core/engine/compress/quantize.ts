/**
 * The two lossy compressors of Δ and their exact inverses. int8: per block, scale = max|x| / 127 and
 * q = round(x / scale), so every element is off by at most scale / 2. Top-k: keep the k entries of
 * largest magnitude exactly, drop the rest.
 */
import type { Encoded } from './codec.js'

export function quantizeInt8(x: Float32Array, blockSize = 256): Encoded & { method: 'int8' } {
  const n = x.length
  const blocks = Math.ceil(n / blockSize)
  const scales = new Float32Array(blocks)
  const q = new Int8Array(n)
  for (let b = 0; b < blocks; b++) {
    const start = b * blockSize
    const end = Math.min(n, start + blockSize)
    let max = 0
    for (let i = start; i < end; i++) max = Math.max(max, Math.abs(x[i] as number))
    if (max === 0) continue
    // Divide by the stored float32 scale, so decoding reproduces exactly what we bounded. For
    // subnormal blocks max/127 underflows to zero; the block's max itself is then the scale.
    let s = Math.fround(max / 127)
    if (s === 0) s = Math.fround(max)
    scales[b] = s
    for (let i = start; i < end; i++)
      q[i] = Math.max(-127, Math.min(127, Math.round((x[i] as number) / s)))
  }
  return { method: 'int8', n, blockSize, scales, q }
}

/** Indices of the k largest |x|, ascending. Ties at the threshold are broken by lower index. */
export function topK(x: Float32Array, k: number): Encoded & { method: 'topk' } {
  const n = x.length
  const kk = Math.max(0, Math.min(n, Math.floor(k)))
  if (kk === 0)
    return { method: 'topk', n, indices: new Uint32Array(0), values: new Float32Array(0) }
  const threshold = kthLargestMagnitude(x, kk)
  const indices = new Uint32Array(kk)
  let count = 0
  // Strictly above the threshold first, then fill with ties in index order.
  for (let i = 0; i < n && count < kk; i++)
    if (Math.abs(x[i] as number) > threshold) indices[count++] = i
  if (count < kk) {
    for (let i = 0; i < n && count < kk; i++)
      if (Math.abs(x[i] as number) === threshold) indices[count++] = i
    indices.sort()
  }
  const values = new Float32Array(kk)
  for (let j = 0; j < kk; j++) values[j] = x[indices[j] as number] as number
  return { method: 'topk', n, indices, values }
}

/** Quickselect on magnitudes: O(n) average. */
function kthLargestMagnitude(x: Float32Array, k: number): number {
  const a = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) a[i] = Math.abs(x[i] as number)
  let lo = 0
  let hi = a.length - 1
  const target = k - 1 // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] as number
    let i = lo
    let j = hi
    while (i <= j) {
      while ((a[i] as number) > pivot) i++
      while ((a[j] as number) < pivot) j--
      if (i <= j) {
        const t = a[i] as number
        a[i] = a[j] as number
        a[j] = t
        i++
        j--
      }
    }
    if (target <= j) hi = j
    else if (target >= i) lo = i
    else break
  }
  return a[target] as number
}

/** Expands any encoding back to a dense Float32Array. */
export function densify(e: Encoded): Float32Array {
  switch (e.method) {
    case 'f32':
      return e.values
    case 'int8': {
      const out = new Float32Array(e.n)
      for (let i = 0; i < e.n; i++)
        out[i] = (e.q[i] as number) * (e.scales[Math.floor(i / e.blockSize)] as number)
      return out
    }
    case 'topk': {
      const out = new Float32Array(e.n)
      e.indices.forEach((idx, j) => (out[idx] = e.values[j] as number))
      return out
    }
  }
}
