/**
 * The safetensors format (https://huggingface.co/docs/safetensors), for handing a trained model to
 * everyone: 8 bytes little-endian u64 N, N bytes of UTF-8 JSON header, then the raw tensor bytes.
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end)} (offsets into the
 * byte buffer after the header) and may hold "__metadata__", a string → string map. Tandem writes
 * F32 only, tensors contiguous in layout order, the header padded with spaces to 8 bytes.
 *
 * Reading treats the file as untrusted: header size bounded, JSON checked with zod, every tensor
 * F32 with offsets inside the buffer, its byte length = 4 × the product of its shape, no overlaps,
 * no gaps. Anything else is CHECKPOINT_CORRUPT.
 */
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import { paramLayout, sizeOf } from './model/layout.js'
import type { ModelSpec } from './spec/schema.js'

/** Headers larger than this are refused (the format's own reference reader uses 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024

export interface NamedTensor {
  name: string
  shape: number[]
  data: Float32Array
}

const TensorInfo = z
  .object({
    dtype: z.literal('F32'),
    shape: z.array(z.number().int().min(0)),
    data_offsets: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
  })
  .strict()

function corrupt(why: string): TandemError {
  return new TandemError('CHECKPOINT_CORRUPT', `not a valid safetensors file: ${why}`)
}

export function encodeSafetensors(
  tensors: NamedTensor[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata }
  let offset = 0
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.hasOwn(header, t.name))
      throw new TandemError('BAD_ARGUMENT', `tensor name "${t.name}" is reserved or repeated`)
    if (sizeOf(t.shape) !== t.data.length)
      throw new TandemError('BAD_ARGUMENT', `tensor ${t.name}: shape and data length differ`)
    const end = offset + t.data.length * 4
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, end] }
    offset = end
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8')
  const pad = (8 - (json.length % 8)) % 8
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)])
  const out = Buffer.alloc(8 + json.length + offset)
  out.writeBigUInt64LE(BigInt(json.length), 0)
  json.copy(out, 8)
  let at = 8 + json.length
  for (const t of tensors) {
    // Little-endian float32, whatever the host's byte order.
    for (let i = 0; i < t.data.length; i++, at += 4) out.writeFloatLE(t.data[i]!, at)
  }
  return out
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: NamedTensor[]
  metadata: Record<string, string>
} {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < 8) throw corrupt('shorter than its 8-byte header length')
  const n = buf.readBigUInt64LE(0)
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, buf.length - 8)))
    throw corrupt('header length out of range')
  const headerEnd = 8 + Number(n)
  let raw: unknown
  try {
    raw = JSON.parse(buf.subarray(8, headerEnd).toString('utf8'))
  } catch {
    throw corrupt('header is not JSON')
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw corrupt('header is not an object')
  const { __metadata__: meta = {}, ...entries } = raw as Record<string, unknown>
  const metadata = z.record(z.string(), z.string()).safeParse(meta)
  if (!metadata.success) throw corrupt('__metadata__ is not a string map')
  const data = buf.subarray(headerEnd)
  const infos = Object.entries(entries).map(([name, v]) => {
    const info = TensorInfo.safeParse(v)
    if (!info.success) throw corrupt(`tensor ${name}: ${info.error.issues[0]?.message} (only F32)`)
    return { name, ...info.data }
  })
  infos.sort((a, b) => a.data_offsets[0] - b.data_offsets[0])
  let expected = 0
  const tensors = infos.map((t) => {
    const [begin, end] = t.data_offsets
    if (begin !== expected) throw corrupt(`tensor ${t.name} leaves a gap or overlaps`)
    if (end - begin !== sizeOf(t.shape) * 4)
      throw corrupt(`tensor ${t.name}: size and shape differ`)
    if (end > data.length) throw corrupt(`tensor ${t.name} runs past the end of the file`)
    expected = end
    const values = new Float32Array(sizeOf(t.shape))
    for (let i = 0; i < values.length; i++) values[i] = data.readFloatLE(begin + 4 * i)
    return { name: t.name, shape: t.shape, data: values }
  })
  if (expected !== data.length) throw corrupt('bytes after the last tensor')
  return { tensors, metadata: metadata.data }
}

/** A model's flat weights (layout order) as named tensors. */
export function weightsToTensors(spec: ModelSpec, weights: Float32Array): NamedTensor[] {
  let at = 0
  const out = paramLayout(spec).map((p) => {
    const n = sizeOf(p.shape)
    const t = { name: p.name, shape: p.shape, data: weights.slice(at, at + n) }
    at += n
    return t
  })
  if (at !== weights.length)
    throw new TandemError(
      'SPEC_MISMATCH',
      `weights have ${weights.length} values; the spec needs ${at}`,
    )
  return out
}

/** The flat weights (layout order) of `spec` from a safetensors file: every tensor by name and shape. */
export function tensorsToWeights(spec: ModelSpec, tensors: NamedTensor[]): Float32Array {
  const byName = new Map(tensors.map((t) => [t.name, t]))
  const layout = paramLayout(spec)
  if (tensors.length !== layout.length)
    throw new TandemError(
      'SPEC_MISMATCH',
      `the file has ${tensors.length} tensors; the model has ${layout.length}`,
    )
  const out = new Float32Array(layout.reduce((n, p) => n + sizeOf(p.shape), 0))
  let at = 0
  for (const p of layout) {
    const t = byName.get(p.name)
    if (!t || t.shape.join(',') !== p.shape.join(','))
      throw new TandemError('SPEC_MISMATCH', `tensor ${p.name} is missing or has another shape`)
    out.set(t.data, at)
    at += t.data.length
  }
  return out
}
