/**
 * Checkpoint files: the model weights of one round, self-describing and tamper-evident.
 *
 *   0   u8[4]  magic "TNDC"
 *   4   u16    format version (1)
 *   6   u16    tensor count T
 *   8   u32    round
 *   12  u8[32] spec hash (SHA-256 of the canonical spec)
 *   44  T ×    { u8 rank, rank × u32 dims }
 *       f32 ×  all weights in layout order (little-endian)
 *   end u8[32] SHA-256 of every byte before it
 *
 * Reading checks the hash first, then that the shapes match the expected spec exactly; a torn,
 * truncated, tampered or foreign file is a coded error, never garbage weights.
 */
import { createHash } from 'node:crypto'
import { TandemError } from '../api/errors.js'
import { paramLayout, sizeOf } from './model/layout.js'
import { specHash } from './spec/hash.js'
import type { ModelSpec } from './spec/schema.js'

const MAGIC = Buffer.from('TNDC')
export const CHECKPOINT_VERSION = 1
const FIXED = 44
const HASH = 32

export interface Checkpoint {
  specHash: string
  round: number
  shapes: number[][]
  weights: Float32Array
  /** Hex SHA-256 of the file: the checkpoint's identity in the ledger. */
  contentHash: string
}

/**
 * The exact size of a checkpoint file for `spec`: the layout fixes every tensor's shape, so a file
 * of any other length cannot be this model's. Lets a reader refuse a header that declares some
 * other size before fetching a single chunk.
 */
export function checkpointByteLength(spec: ModelSpec): number {
  const shapes = paramLayout(spec).map((p) => p.shape)
  const shapeBytes = shapes.reduce((n, s) => n + 1 + 4 * s.length, 0)
  const total = shapes.reduce((n, s) => n + sizeOf(s), 0)
  return FIXED + shapeBytes + 4 * total + HASH
}

export function encodeCheckpoint(
  spec: ModelSpec,
  round: number,
  weights: Float32Array,
): Uint8Array {
  const shapes = paramLayout(spec).map((p) => p.shape)
  const total = shapes.reduce((n, s) => n + sizeOf(s), 0)
  if (weights.length !== total)
    throw new TandemError(
      'SPEC_MISMATCH',
      `weights have ${weights.length} values; the spec needs ${total}`,
    )
  if (!Number.isInteger(round) || round < 0 || round > 0xffffffff)
    throw new TandemError('BAD_ARGUMENT', `bad round ${round}`)
  const shapeBytes = shapes.reduce((n, s) => n + 1 + 4 * s.length, 0)
  const out = Buffer.alloc(FIXED + shapeBytes + 4 * total + HASH)
  MAGIC.copy(out, 0)
  out.writeUInt16LE(CHECKPOINT_VERSION, 4)
  out.writeUInt16LE(shapes.length, 6)
  out.writeUInt32LE(round, 8)
  Buffer.from(specHash(spec), 'hex').copy(out, 12)
  let o = FIXED
  for (const shape of shapes) {
    out.writeUInt8(shape.length, o++)
    for (const d of shape) {
      out.writeUInt32LE(d, o)
      o += 4
    }
  }
  Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).copy(out, o)
  o += 4 * total
  createHash('sha256').update(out.subarray(0, o)).digest().copy(out, o)
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** The content hash the checkpoint file of `values` for `round` has: its trailing SHA-256. */
export function checkpointContentHash(
  spec: ModelSpec,
  round: number,
  values: Float32Array,
): string {
  const file = encodeCheckpoint(spec, round, values)
  return Buffer.from(file.buffer, file.byteOffset + file.byteLength - HASH, HASH).toString('hex')
}

function corrupt(why: string): never {
  throw new TandemError('CHECKPOINT_CORRUPT', `Checkpoint is corrupt: ${why}`)
}

/** Decodes and verifies a checkpoint; with `spec`, also checks it belongs to that model. */
export function decodeCheckpoint(bytes: Uint8Array, spec?: ModelSpec): Checkpoint {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < FIXED + HASH) corrupt(`${buf.length} bytes is too short`)
  if (!buf.subarray(0, 4).equals(MAGIC)) corrupt('not a Tandem checkpoint (bad magic)')
  const version = buf.readUInt16LE(4)
  if (version !== CHECKPOINT_VERSION) {
    throw new TandemError(
      'CHECKPOINT_VERSION',
      `Checkpoint format version ${version} is not supported (this build reads ${CHECKPOINT_VERSION})`,
    )
  }
  const body = buf.subarray(0, buf.length - HASH)
  const digest = createHash('sha256').update(body).digest()
  if (!digest.equals(buf.subarray(buf.length - HASH)))
    corrupt('content hash mismatch (truncated or altered)')
  const count = buf.readUInt16LE(6)
  const round = buf.readUInt32LE(8)
  const hash = buf.subarray(12, 44).toString('hex')
  const shapes: number[][] = []
  let o = FIXED
  let total = 0
  for (let t = 0; t < count; t++) {
    if (o + 1 > body.length) corrupt('shape table runs past the end')
    const rank = buf.readUInt8(o++)
    if (rank < 1 || rank > 6 || o + 4 * rank > body.length)
      corrupt(`bad rank ${rank} for tensor ${t}`)
    const shape: number[] = []
    for (let r = 0; r < rank; r++, o += 4) shape.push(buf.readUInt32LE(o))
    if (shape.some((d) => d === 0)) corrupt(`zero dimension in tensor ${t}`)
    total += sizeOf(shape)
    shapes.push(shape)
  }
  if (o + 4 * total !== body.length)
    corrupt(`weights take ${body.length - o} bytes, shapes need ${4 * total}`)
  const weights = new Float32Array(total)
  new Uint8Array(weights.buffer).set(body.subarray(o))
  if (spec) {
    if (specHash(spec) !== hash)
      throw new TandemError('SPEC_MISMATCH', 'Checkpoint was written for a different model spec')
    const expected = paramLayout(spec).map((p) => p.shape)
    if (JSON.stringify(expected) !== JSON.stringify(shapes))
      throw new TandemError('SPEC_MISMATCH', 'Checkpoint tensor shapes differ from the spec')
  }
  return { specHash: hash, round, shapes, weights, contentHash: digest.toString('hex') }
}
