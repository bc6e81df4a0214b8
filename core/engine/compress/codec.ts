/**
 * Binary encoding of a pseudo-gradient Δ, as stored in a contributor's update core. Three methods:
 * raw float32, int8 with one float32 scale per block, and top-k (sorted uint32 indices + float32
 * values). Little-endian throughout. The byte count is exact and known before encoding.
 *
 *   0  u8[4]  magic "TDLT"
 *   4  u8     format version (1)
 *   5  u8     method: 0 = f32, 1 = int8 blocks, 2 = top-k
 *   6  u16    reserved, 0
 *   8  u32    n: number of parameters
 *  12  ...    method payload
 *     f32:   n × f32
 *     int8:  u32 blockSize, ceil(n/blockSize) × f32 scales, n × i8
 *     top-k: u32 k, k × u32 strictly increasing indices < n, k × f32 values
 *
 * Decoding is peer input: every length, index and number is checked, and any fault is a coded
 * COMPRESSION_CORRUPT error, never a native exception.
 */
import { TandemError } from '../../api/errors.js'
import { SPEC_LIMITS } from '../spec/schema.js'

const MAGIC = [0x54, 0x44, 0x4c, 0x54] // "TDLT"
const VERSION = 1
const HEADER = 12

export type Encoded =
  | { method: 'f32'; n: number; values: Float32Array }
  | { method: 'int8'; n: number; blockSize: number; scales: Float32Array; q: Int8Array }
  | { method: 'topk'; n: number; indices: Uint32Array; values: Float32Array }

const METHOD_IDS = { f32: 0, int8: 1, topk: 2 } as const

export function encodedSize(e: Encoded): number {
  switch (e.method) {
    case 'f32':
      return HEADER + 4 * e.n
    case 'int8':
      return HEADER + 4 + 4 * e.scales.length + e.n
    case 'topk':
      return HEADER + 4 + 8 * e.indices.length
  }
}

export function encode(e: Encoded): Uint8Array {
  const out = new Uint8Array(encodedSize(e))
  const view = new DataView(out.buffer)
  out.set(MAGIC, 0)
  view.setUint8(4, VERSION)
  view.setUint8(5, METHOD_IDS[e.method])
  view.setUint32(8, e.n, true)
  let o = HEADER
  const f32 = (values: Float32Array) => {
    for (const v of values) {
      view.setFloat32(o, v, true)
      o += 4
    }
  }
  switch (e.method) {
    case 'f32':
      f32(e.values)
      break
    case 'int8':
      view.setUint32(o, e.blockSize, true)
      o += 4
      f32(e.scales)
      out.set(new Uint8Array(e.q.buffer, e.q.byteOffset, e.q.byteLength), o)
      break
    case 'topk':
      view.setUint32(o, e.indices.length, true)
      o += 4
      for (const i of e.indices) {
        view.setUint32(o, i, true)
        o += 4
      }
      f32(e.values)
      break
  }
  return out
}

function corrupt(why: string): never {
  throw new TandemError('COMPRESSION_CORRUPT', `Encoded update is corrupt: ${why}`)
}

function readF32(view: DataView, offset: number, count: number): Float32Array {
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) {
    const v = view.getFloat32(offset + 4 * i, true)
    if (!Number.isFinite(v)) corrupt(`non-finite number at byte ${offset + 4 * i}`)
    out[i] = v
  }
  return out
}

export function decode(bytes: Uint8Array, expectedN?: number): Encoded {
  if (!(bytes instanceof Uint8Array)) corrupt('not a byte array')
  if (bytes.byteLength < HEADER) corrupt(`${bytes.byteLength} bytes is shorter than the header`)
  if (MAGIC.some((b, i) => bytes[i] !== b)) corrupt('bad magic')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint8(4)
  if (version !== VERSION) corrupt(`unsupported format version ${version}`)
  const method = view.getUint8(5)
  const n = view.getUint32(8, true)
  if (n === 0 || n > SPEC_LIMITS.maxParams) corrupt(`parameter count ${n} out of range`)
  if (expectedN !== undefined && n !== expectedN)
    corrupt(`has ${n} parameters, expected ${expectedN}`)
  const need = (size: number) => {
    if (bytes.byteLength !== size) corrupt(`length ${bytes.byteLength}, expected ${size}`)
  }
  switch (method) {
    case 0:
      need(HEADER + 4 * n)
      return { method: 'f32', n, values: readF32(view, HEADER, n) }
    case 1: {
      if (bytes.byteLength < HEADER + 4) corrupt('truncated int8 header')
      const blockSize = view.getUint32(HEADER, true)
      if (blockSize < 1 || blockSize > 1 << 20) corrupt(`block size ${blockSize} out of range`)
      const blocks = Math.ceil(n / blockSize)
      need(HEADER + 4 + 4 * blocks + n)
      const scales = readF32(view, HEADER + 4, blocks)
      if (scales.some((s) => s < 0)) corrupt('negative scale')
      const start = bytes.byteOffset + HEADER + 4 + 4 * blocks
      const q = new Int8Array(bytes.buffer.slice(start, start + n))
      return { method: 'int8', n, blockSize, scales, q }
    }
    case 2: {
      if (bytes.byteLength < HEADER + 4) corrupt('truncated top-k header')
      const k = view.getUint32(HEADER, true)
      if (k > n) corrupt(`k ${k} exceeds n ${n}`)
      need(HEADER + 4 + 8 * k)
      const indices = new Uint32Array(k)
      let prev = -1
      for (let i = 0; i < k; i++) {
        const idx = view.getUint32(HEADER + 4 + 4 * i, true)
        if (idx <= prev || idx >= n)
          corrupt(`index ${idx} at position ${i} is out of order or range`)
        indices[i] = idx
        prev = idx
      }
      return { method: 'topk', n, indices, values: readF32(view, HEADER + 4 + 4 * k, k) }
    }
    default:
      return corrupt(`unknown method ${method}`)
  }
}
