/**
 * The hot loops, as small functions over typed arrays with every operand a parameter. V8 compiles
 * these to tight machine code; the same loops written inline in closures that capture reassigned
 * variables ran several times slower (measured in the benchmark).
 */

/** acc[j] += w · r[j] */
export function addScaled(acc: Float64Array, r: Float32Array, w: number, len: number): void {
  for (let j = 0; j < len; j++) acc[j] = (acc[j] as number) + w * (r[j] as number)
}

/** acc[j] += c · (r[j] − v[j]) */
export function addScaledDiff(
  acc: Float64Array,
  r: Float32Array,
  v: Float32Array,
  c: number,
  len: number,
): void {
  for (let j = 0; j < len; j++)
    acc[j] = (acc[j] as number) + c * ((r[j] as number) - (v[j] as number))
}

/** out[j] = base[j] + acc[j] / W, rounded to float32 on store (base may be out). */
export function writeStep(
  out: Float32Array,
  base: Float32Array | null,
  acc: Float64Array,
  W: number,
  len: number,
): void {
  if (base === null) for (let j = 0; j < len; j++) out[j] = (acc[j] as number) / W
  else for (let j = 0; j < len; j++) out[j] = (base[j] as number) + (acc[j] as number) / W
}

/** Continues Σ(r − a)², Σ r·a and (when norms) Σ r² from stats[0..2], in coordinate order. */
export function rowStats(r: Float32Array, a: Float32Array, stats: Float64Array, norms: boolean) {
  let d2 = stats[0] as number
  let dt = stats[1] as number
  let n2 = stats[2] as number
  const len = r.length
  if (norms) {
    for (let j = 0; j < len; j++) {
      const x = r[j] as number
      const y = a[j] as number
      const d = x - y
      d2 += d * d
      dt += x * y
      n2 += x * x
    }
  } else {
    for (let j = 0; j < len; j++) {
      const x = r[j] as number
      const y = a[j] as number
      const d = x - y
      d2 += d * d
      dt += x * y
    }
  }
  stats[0] = d2
  stats[1] = dt
  stats[2] = n2
}

/** Continues Σ(a − b)² from s, in coordinate order. */
export function squaredDistance(a: Float32Array, b: Float32Array, s: number): number {
  const len = a.length
  for (let j = 0; j < len; j++) {
    const d = (a[j] as number) - (b[j] as number)
    s += d * d
  }
  return s
}

/** Continues Σ a² from s, in coordinate order. */
export function sumSquares(a: Float32Array, s: number): number {
  const len = a.length
  for (let j = 0; j < len; j++) s += (a[j] as number) * (a[j] as number)
  return s
}

/** out[j − start] = q[j] · scales[⌊j / blockSize⌋] for j in [start, start + out.length). */
export function dequantize(
  q: Int8Array,
  scales: Float32Array,
  blockSize: number,
  start: number,
  out: Float32Array,
): void {
  const end = start + out.length
  let j = start
  while (j < end) {
    const b = Math.floor(j / blockSize)
    const s = scales[b] as number
    const stop = Math.min(end, (b + 1) * blockSize)
    for (; j < stop; j++) out[j - start] = (q[j] as number) * s
  }
}
