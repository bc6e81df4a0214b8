/**
 * Block 0 of a dataset core: the header. UTF-8 JSON (see docs/dataset-format.md), checked with zod
 * on every read because it arrives from peers: a header that parses but lies (counts that do not add
 * up, a hash list of the wrong length) is rejected here, before anything sizes a buffer from it.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { TandemError } from '../api/errors.js'

export const DATASET_FORMAT = 'tandem-dataset'
export const DATASET_FORMAT_VERSION = 1
/** Hypercore replicates each block atomically; upstream suggests at most 15 MB per block. */
export const MAX_BLOCK_BYTES = 15 * 1024 * 1024

/** The largest dimension a tensor layout's `shape` may have. */
export const MAX_SHAPE_DIM = 1 << 24

const DTYPE_BYTES = { uint8: 1, int8: 1, uint16: 2, int16: 2, int32: 4, float32: 4 } as const
export type Dtype = keyof typeof DTYPE_BYTES
export const dtypeBytes = (d: Dtype): number => DTYPE_BYTES[d]

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

const vocabSchema = z.discriminatedUnion('kind', [
  /** Token id = the byte value: 256 ids, any UTF-8 text. */
  z.object({ kind: z.literal('byte') }),
  /** Token id = index in `symbols` (one Unicode code point each, ascending code point order). */
  z.object({
    kind: z.literal('char'),
    symbols: z.array(z.string().min(1).max(2)).min(1).max(65536),
  }),
])

/** Class names are shown to people: printable, trimmed, short. */
export const MAX_CLASS_NAMES = 10_000
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\ufffd\u2028\u2029]/
export const ClassName = z
  .string()
  .min(1)
  .max(100)
  .refine((n) => n.trim() === n && !UNPRINTABLE.test(n), 'must be printable, without outer spaces')

/**
 * Why `names` cannot name `classes` classes (null: they can): one distinct name per class. Written
 * once for the header check and the importers' options.
 */
export function classNamesProblem(names: readonly string[], classes: number): string | null {
  if (names.length !== classes) return `${names.length} class names for ${classes} classes`
  const bad = names.find((n) => !ClassName.safeParse(n).success)
  if (bad !== undefined) return `class name "${bad.slice(0, 40)}" is empty, too long or unprintable`
  if (new Set(names).size !== names.length) return 'class names repeat'
  return null
}

const tokenLayoutSchema = z.object({
  kind: z.literal('tokens'),
  dtype: z.enum(['uint8', 'uint16']),
  vocab: vocabSchema,
})

const tensorLayoutSchema = z.object({
  kind: z.literal('tensors'),
  /** Shape of one record's features, e.g. [28, 28] for MNIST. */
  shape: z.array(z.number().int().positive().max(MAX_SHAPE_DIM)).min(1).max(8),
  dtype: z.enum(['uint8', 'int8', 'uint16', 'int16', 'int32', 'float32']),
  /** Features as floats are `stored * scale` (1/255 for 8-bit images: values land in [0, 1]). */
  scale: z.number().positive().finite(),
  labels: z.object({
    dtype: z.enum(['uint8', 'int32']),
    /** Labels are integers in [0, classes). */
    classes: z
      .number()
      .int()
      .positive()
      .max(1 << 24),
    /** Optional: the name of each class, by index (e.g. an image folder's subfolder names). */
    names: z.array(ClassName).max(MAX_CLASS_NAMES).optional(),
  }),
})

export const layoutSchema = z.discriminatedUnion('kind', [tokenLayoutSchema, tensorLayoutSchema])
export type RecordLayout = z.infer<typeof layoutSchema>
export type TokenLayout = z.infer<typeof tokenLayoutSchema>
export type TensorLayout = z.infer<typeof tensorLayoutSchema>

export const headerSchema = z
  .object({
    format: z.literal(DATASET_FORMAT),
    version: z.literal(DATASET_FORMAT_VERSION),
    name: z.string().min(1).max(200),
    description: z.string().max(10_000),
    /** SPDX identifier or free text; what the host says the data may be used under. */
    license: z.string().max(200),
    source: z.object({
      importer: z.enum(['text', 'idx', 'csv']),
      files: z.array(z.string().max(500)).max(8),
    }),
    layout: layoutSchema,
    /** Records in the dataset (tokens, for a token layout). */
    records: count.min(1),
    /** Records per shard; every shard but the last holds exactly this many. */
    shardRecords: count.min(1),
    shards: count.min(1),
    /** The last `validation.shards` shards are held out for scoring, never assigned for training. */
    validation: z.object({ shards: count }),
    /** SHA-256 (hex) of each shard block, in order. */
    shardHashes: z.array(hex64),
    /** SHA-256 over the concatenated raw shard hashes: the content's identity, key-independent. */
    contentHash: hex64,
  })
  .superRefine((h, ctx) => {
    const problems: string[] = []
    if (h.shards !== Math.ceil(h.records / h.shardRecords)) problems.push('shard count')
    if (h.shardHashes.length !== h.shards) problems.push('hash count')
    if (h.validation.shards >= h.shards && h.shards > 0 && h.validation.shards > 0)
      problems.push('validation leaves no training shard')
    if (recordBytes(h.layout) * h.shardRecords > MAX_BLOCK_BYTES) problems.push('shard too large')
    if (h.layout.kind === 'tensors' && h.layout.labels.names) {
      const why = classNamesProblem(h.layout.labels.names, h.layout.labels.classes)
      if (why) problems.push(why)
    }
    if (h.layout.kind === 'tokens') {
      const vocab = vocabSize(h.layout)
      if (h.layout.dtype === 'uint8' && vocab > 256) problems.push('vocab exceeds dtype')
    }
    for (const p of problems) ctx.addIssue({ code: 'custom', message: p })
  })

export type DatasetHeader = z.infer<typeof headerSchema>

export function vocabSize(layout: TokenLayout): number {
  return layout.vocab.kind === 'byte' ? 256 : layout.vocab.symbols.length
}

/** The class names a dataset's header gives (null: none, e.g. a header from before names). */
export function classNamesOf(layout: RecordLayout): string[] | null {
  return layout.kind === 'tensors' ? (layout.labels.names ?? null) : null
}

export function featureCount(layout: TensorLayout): number {
  return layout.shape.reduce((a, b) => a * b, 1)
}

/** Bytes one record occupies in a shard block. */
export function recordBytes(layout: RecordLayout): number {
  if (layout.kind === 'tokens') return dtypeBytes(layout.dtype)
  return featureCount(layout) * dtypeBytes(layout.dtype) + dtypeBytes(layout.labels.dtype)
}

export function shardRecordCount(h: DatasetHeader, shard: number): number {
  if (!Number.isInteger(shard) || shard < 0 || shard >= h.shards) {
    throw new TandemError('BAD_ARGUMENT', `shard ${shard} out of range [0, ${h.shards})`)
  }
  return Math.min(h.shardRecords, h.records - shard * h.shardRecords)
}

export function shardByteLength(h: DatasetHeader, shard: number): number {
  return shardRecordCount(h, shard) * recordBytes(h.layout)
}

/** Shards a project may assign for training: everything before the validation split. */
export function trainingShardCount(h: DatasetHeader): number {
  return h.shards - h.validation.shards
}

export function validationShardIndices(h: DatasetHeader): number[] {
  return Array.from({ length: h.validation.shards }, (_, i) => trainingShardCount(h) + i)
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function contentHashOf(shardHashes: string[]): string {
  const h = createHash('sha256')
  for (const s of shardHashes) h.update(Buffer.from(s, 'hex'))
  return h.digest('hex')
}

export function encodeHeader(header: DatasetHeader): Buffer {
  const checked = headerSchema.safeParse(header)
  if (!checked.success) {
    throw new TandemError(
      'INTERNAL',
      `refusing to write an invalid header: ${checked.error.message}`,
    )
  }
  const block = Buffer.from(JSON.stringify(checked.data), 'utf8')
  if (block.byteLength > MAX_BLOCK_BYTES) {
    throw new TandemError(
      'DATASET_MALFORMED_INPUT',
      `header too large (${header.shards} shards): use a larger --shard-size`,
    )
  }
  return block
}

export function decodeHeader(block: Uint8Array | null): DatasetHeader {
  if (!block) throw new TandemError('DATASET_BAD_HEADER', 'dataset has no header block')
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(block))
  } catch {
    throw new TandemError('DATASET_BAD_HEADER', 'block 0 is not a JSON dataset header')
  }
  const parsed = headerSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
    throw new TandemError(
      'DATASET_BAD_HEADER',
      `not a Tandem dataset header (v${DATASET_FORMAT_VERSION}): ${issue?.message ?? 'invalid'}${where}`,
    )
  }
  return parsed.data
}
