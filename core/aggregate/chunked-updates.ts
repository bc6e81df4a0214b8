/**
 * The updates of one round, kept compressed, decoded a chunk of coordinates at a time. 100 updates
 * of 1M parameters are 100 MB as int8 but 400 MB as float32; a chunk of 64k coordinates for all of
 * them is 26 MB. Every rule walks the coordinates in order and keeps whole-vector sums (norms,
 * distances) in float64 accumulators that carry across chunks, so the chunk size never changes a
 * single bit of any result.
 *
 * Bytes are peer input: decoding goes through the codec's checks, and anything wrong becomes a coded
 * AggregationError naming the update, never a native exception.
 */
import { decode, type Encoded } from '../engine/compress/codec.js'
import { dequantize } from './kernels.js'
import { AggregationError, type ChunkOptions, type WeightedUpdate } from './types.js'

/** Sort keys pack the update index into 21 bits (see coordinate-order.ts); 4096 is far below. */
export const MAX_UPDATES = 4096
/** Decoded rows for all updates stay within about 64 MiB (16 M float32). */
const ROW_BUDGET = 1 << 24
const MAX_CHUNK = 1 << 16
const MIN_CHUNK = 1 << 10
const F32_MAX = 3.4028234663852886e38

export class UpdateSet {
  readonly count: number
  readonly length: number
  readonly weights: Float64Array
  /** Sum of weights, in update order. */
  readonly totalWeight: number
  readonly chunkSize: number
  private readonly sources: Encoded[]

  private constructor(sources: Encoded[], weights: Float64Array, chunkSize: number) {
    this.sources = sources
    this.count = sources.length
    this.length = (sources[0] as Encoded).n
    this.weights = weights
    let total = 0
    for (const w of weights) total += w
    this.totalWeight = total
    this.chunkSize = chunkSize
  }

  static from(updates: readonly WeightedUpdate[], options: ChunkOptions = {}): UpdateSet {
    if (!Array.isArray(updates) || updates.length === 0)
      throw new AggregationError('AGGREGATE_NO_UPDATES', 'no updates to aggregate')
    if (updates.length > MAX_UPDATES)
      throw new AggregationError(
        'AGGREGATE_TOO_MANY_UPDATES',
        `${updates.length} updates, at most ${MAX_UPDATES}`,
      )
    const weights = new Float64Array(updates.length)
    const sources: Encoded[] = []
    let expected = options.expectedLength
    if (expected !== undefined && !(Number.isSafeInteger(expected) && expected > 0))
      throw new AggregationError('AGGREGATE_BAD_CONFIG', `expectedLength ${expected} is not valid`)
    updates.forEach((u, i) => {
      const w = (u as Partial<WeightedUpdate> | null)?.weight
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
        throw new AggregationError('AGGREGATE_BAD_WEIGHT', `update ${i}: weight ${w}`, i)
      weights[i] = w
      const src = toSource(u.update, i)
      if (expected === undefined) expected = src.n
      else if (src.n !== expected)
        throw new AggregationError(
          'AGGREGATE_LENGTH_MISMATCH',
          `update ${i} has ${src.n} parameters, expected ${expected}`,
          i,
        )
      sources.push(src)
    })
    const set = new UpdateSet(sources, weights, chunkSizeFor(options.chunkSize, updates.length))
    if (!(set.totalWeight > 0) || !Number.isFinite(set.totalWeight))
      throw new AggregationError('AGGREGATE_BAD_WEIGHT', `total weight ${set.totalWeight}`)
    return set
  }

  /** Indices of updates with positive weight, in order: the ones a rule may listen to. */
  activeIndices(): number[] {
    const out: number[] = []
    this.weights.forEach((w, i) => w > 0 && out.push(i))
    return out
  }

  /**
   * Calls fn for consecutive coordinate ranges [start, start + rows[i].length) with every update
   * decoded into rows[i]. The row buffers are reused: fn must not keep them.
   */
  forEachChunk(fn: (start: number, rows: Float32Array[], bits: Uint32Array[]) => void): void {
    const size = Math.min(this.chunkSize, this.length)
    const buffers = this.sources.map(() => new Float32Array(size))
    for (let start = 0; start < this.length; start += size) {
      const len = Math.min(size, this.length - start)
      const rows = buffers.map((b) => (len === size ? b : b.subarray(0, len)))
      rows.forEach((row, i) => this.decodeInto(i, start, row))
      const bits = rows.map((r) => new Uint32Array(r.buffer, r.byteOffset, r.length))
      fn(start, rows, bits)
    }
  }

  /** Decodes coordinates [start, start + out.length) of update i, exactly as densify() would. */
  decodeInto(i: number, start: number, out: Float32Array): void {
    const src = this.sources[i] as Encoded
    const end = start + out.length
    switch (src.method) {
      case 'f32':
        out.set(src.values.subarray(start, end))
        return
      case 'int8': {
        dequantize(src.q, src.scales, src.blockSize, start, out)
        return
      }
      case 'topk': {
        out.fill(0)
        const { indices, values } = src
        let k = lowerBound(indices, start)
        for (; k < indices.length && (indices[k] as number) < end; k++)
          out[(indices[k] as number) - start] = values[k] as number
        return
      }
    }
  }
}

function chunkSizeFor(requested: number | undefined, count: number): number {
  if (requested !== undefined) {
    if (!Number.isSafeInteger(requested) || requested < 1)
      throw new AggregationError('AGGREGATE_BAD_CONFIG', `chunkSize ${requested} is not valid`)
    return requested
  }
  return Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, Math.floor(ROW_BUDGET / count)))
}

function toSource(update: unknown, i: number): Encoded {
  if (update instanceof Float32Array) {
    if (update.length === 0)
      throw new AggregationError('AGGREGATE_CORRUPT_UPDATE', `update ${i} is empty`, i)
    for (let j = 0; j < update.length; j++)
      if (!Number.isFinite(update[j]))
        throw new AggregationError('AGGREGATE_CORRUPT_UPDATE', `update ${i}: non-finite at ${j}`, i)
    return { method: 'f32', n: update.length, values: update }
  }
  if (!(update instanceof Uint8Array))
    throw new AggregationError('AGGREGATE_CORRUPT_UPDATE', `update ${i} is not bytes`, i)
  let e: Encoded
  try {
    e = decode(update)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new AggregationError('AGGREGATE_CORRUPT_UPDATE', `update ${i}: ${why}`, i, err)
  }
  if (e.method === 'int8') {
    // The codec checks scales are finite and non-negative; 127 × scale must also stay finite in
    // float32, or a decoded value would be Infinity.
    for (const s of e.scales)
      if (s * 127 > F32_MAX)
        throw new AggregationError('AGGREGATE_CORRUPT_UPDATE', `update ${i}: scale ${s}`, i)
    // decode() copied the int8 payload; view it in the caller's bytes instead, so the round holds
    // one copy of each update rather than two. The layout is fixed by the codec's format version.
    const offset = update.byteOffset + 16 + 4 * e.scales.length
    e = { ...e, q: new Int8Array(update.buffer, offset, e.n) }
  }
  return e
}

function lowerBound(a: Uint32Array, x: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((a[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
