/**
 * AdamW in host memory, shared by data-parallel worker threads on the CPU backends.
 *
 * The weights, both moments and one gradient row per worker sit in shared memory, and each worker
 * owns one contiguous slice of the parameters (a reduce-scatter), so the optimizer's work is split
 * instead of repeated, and no per-step messages are needed:
 *
 *   1. write my gradient row                       → barrier
 *   2. average my slice over all rows (rows in fixed order), sum of squares of my slice → barrier
 *   3. global norm from every slice's sum (fixed order), clip, AdamW on my slice → barrier
 *   4. load the whole updated weight vector into my tensors
 *
 * Every element is updated by exactly one worker with the same arithmetic, so all replicas hold
 * identical weights and the result is deterministic for a given worker count. With one worker the
 * same code runs without barriers (used in tests; a lone worker keeps its optimizer on the device).
 */
import type { AdamWConfig } from './adamw.js'

export interface HostParallel {
  rank: number
  size: number
  /** size × P float32 gradient rows. */
  rows: SharedArrayBuffer
  /** 3 × P float32: weights, first moment, second moment. */
  state: SharedArrayBuffer
  /** size float64 partial sums of squares. */
  norms: SharedArrayBuffer
  /** Int32 [arrived, generation]. */
  barrier: SharedArrayBuffer
}

export function hostParallelBuffers(
  params: number,
  size: number,
  initial: Float32Array,
): Omit<HostParallel, 'rank'> {
  const state = new SharedArrayBuffer(3 * 4 * params)
  new Float32Array(state, 0, params).set(initial)
  return {
    size,
    rows: new SharedArrayBuffer(4 * params * size),
    state,
    norms: new SharedArrayBuffer(8 * size),
    barrier: new SharedArrayBuffer(8),
  }
}

export class HostAdamW {
  readonly weights: Float32Array
  private readonly m: Float32Array
  private readonly v: Float32Array
  private readonly rows: Float32Array
  private readonly mine: Float32Array
  private readonly norms: Float64Array
  private readonly barrier: Int32Array | null
  private readonly lo: number
  private readonly hi: number
  private readonly rank: number
  private readonly size: number
  /** 1 where the parameter at that index gets weight decay. */
  private readonly decayMask: Uint8Array
  private t = 0

  constructor(
    initial: Float32Array,
    decayMask: Uint8Array,
    private readonly cfg: AdamWConfig,
    parallel?: HostParallel,
  ) {
    const n = initial.length
    this.decayMask = decayMask
    if (parallel) {
      this.weights = new Float32Array(parallel.state, 0, n)
      this.m = new Float32Array(parallel.state, 4 * n, n)
      this.v = new Float32Array(parallel.state, 8 * n, n)
      this.rows = new Float32Array(parallel.rows)
      this.norms = new Float64Array(parallel.norms)
      this.barrier = new Int32Array(parallel.barrier)
      this.rank = parallel.rank
      this.size = parallel.size
    } else {
      this.weights = Float32Array.from(initial)
      this.m = new Float32Array(n)
      this.v = new Float32Array(n)
      this.rows = new Float32Array(n)
      this.norms = new Float64Array(1)
      this.barrier = null
      this.rank = 0
      this.size = 1
    }
    this.mine = this.rows.subarray(this.rank * n, (this.rank + 1) * n)
    this.lo = Math.floor((this.rank * n) / this.size)
    this.hi = Math.floor(((this.rank + 1) * n) / this.size)
  }

  /** Where this worker writes its flat gradient before calling step(). */
  get gradientRow(): Float32Array {
    return this.mine
  }

  /** Averages the gradient rows, clips, updates the weights; returns the global gradient norm. */
  step(lr: number): number {
    this.t++
    const n = this.weights.length
    const { lo, hi, size } = this
    const rows = this.rows
    this.wait()
    // Average my slice into row 0's slot of this worker (its own row is free to overwrite now that
    // everyone has finished writing, and nobody else reads my slice of any row after this point).
    const avg = this.mine
    let sumSq = 0
    const inv = 1 / size
    for (let i = lo; i < hi; i++) {
      let s = rows[i] as number
      for (let r = 1; r < size; r++) s += rows[r * n + i] as number
      s *= inv
      avg[i] = s
      sumSq += s * s
    }
    this.norms[this.rank] = sumSq
    this.wait()
    let total = 0
    for (let r = 0; r < size; r++) total += this.norms[r] as number
    const norm = Math.sqrt(total)
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg
    const scale = clipNorm > 0 ? Math.min(1, clipNorm / (norm + 1e-6)) : 1
    // Bias corrections folded into two scalars: step = lr · (m / bc1) / (√(v / bc2) + ε).
    const stepScale = lr / (1 - beta1 ** this.t)
    const vScale = 1 / (1 - beta2 ** this.t)
    const g1 = (1 - beta1) * scale
    const g2 = (1 - beta2) * scale * scale
    const w = this.weights
    const m = this.m
    const v = this.v
    const mask = this.decayMask
    const decay = 1 - lr * weightDecay
    for (let i = lo; i < hi; i++) {
      const g = avg[i] as number
      const mi = beta1 * (m[i] as number) + g1 * g
      const vi = beta2 * (v[i] as number) + g2 * g * g
      m[i] = mi
      v[i] = vi
      const wi = mask[i] === 1 ? (w[i] as number) * decay : (w[i] as number)
      w[i] = wi - (stepScale * mi) / (Math.sqrt(vi * vScale) + eps)
    }
    this.wait()
    return norm
  }

  private wait(): void {
    const barrier = this.barrier
    if (!barrier) return
    const generation = Atomics.load(barrier, 1)
    if (Atomics.add(barrier, 0, 1) === this.size - 1) {
      Atomics.store(barrier, 0, 0)
      Atomics.add(barrier, 1, 1)
      Atomics.notify(barrier, 1)
    } else {
      while (Atomics.load(barrier, 1) === generation) Atomics.wait(barrier, 1, generation, 1000)
    }
  }
}
