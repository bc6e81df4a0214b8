/**
 * IDX files as used by MNIST: an images file and a labels file, raw or gzip. IDX is big-endian:
 * two zero bytes, a type byte, a dimension count, then one u32 per dimension, then the data. The
 * two files are read in lockstep so neither is held in memory.
 */
import { TandemError } from '../../api/errors.js'
import {
  featureCount,
  MAX_BLOCK_BYTES,
  MAX_SHAPE_DIM,
  type Dtype,
  type TensorLayout,
} from '../header.js'
import { ChunkReader, readChunks, type InputFile } from '../input.js'
import {
  createSpool,
  emptyInput,
  pickShardRecords,
  type ImporterContext,
  type ImporterResult,
} from './common.js'

interface IdxType {
  bytes: number
  /** How the values are stored in the shard. */
  dtype: Dtype
  /** Converts n big-endian values to the shard's little-endian encoding. */
  convert: (src: Buffer, n: number) => Uint8Array
}

const toLE =
  (
    bytes: number,
    read: (b: Buffer, o: number) => number,
    write: (b: Buffer, v: number, o: number) => void,
  ) =>
  (src: Buffer, n: number): Uint8Array => {
    const out = Buffer.allocUnsafe(n * (bytes === 8 ? 4 : bytes))
    const step = bytes === 8 ? 4 : bytes
    for (let i = 0; i < n; i++) write(out, read(src, i * bytes), i * step)
    return out
  }

const IDX_TYPES: Record<number, IdxType> = {
  0x08: { bytes: 1, dtype: 'uint8', convert: (s) => s },
  0x09: { bytes: 1, dtype: 'int8', convert: (s) => s },
  0x0b: {
    bytes: 2,
    dtype: 'int16',
    convert: toLE(
      2,
      (b, o) => b.readInt16BE(o),
      (b, v, o) => b.writeInt16LE(v, o),
    ),
  },
  0x0c: {
    bytes: 4,
    dtype: 'int32',
    convert: toLE(
      4,
      (b, o) => b.readInt32BE(o),
      (b, v, o) => b.writeInt32LE(v, o),
    ),
  },
  0x0d: {
    bytes: 4,
    dtype: 'float32',
    convert: toLE(
      4,
      (b, o) => b.readFloatBE(o),
      (b, v, o) => b.writeFloatLE(v, o),
    ),
  },
  // Doubles are stored as float32: the engine trains in float32 anyway.
  0x0e: {
    bytes: 8,
    dtype: 'float32',
    convert: toLE(
      8,
      (b, o) => b.readDoubleBE(o),
      (b, v, o) => b.writeFloatLE(v, o),
    ),
  },
}

interface IdxHeader {
  type: IdxType
  dims: number[]
}

async function readIdxHeader(reader: ChunkReader, file: InputFile): Promise<IdxHeader> {
  const magic = await reader.read(4, 'the IDX magic number')
  if (!magic) throw emptyInput(file)
  const type = IDX_TYPES[magic[2]!]
  if (magic[0] !== 0 || magic[1] !== 0 || !type || magic[3]! < 1 || magic[3]! > 8) {
    throw new TandemError(
      'DATASET_MALFORMED_INPUT',
      `${file.name}: not an IDX file (magic ${magic.toString('hex')})`,
    )
  }
  const dimBytes = await reader.require(4 * magic[3]!, 'the IDX dimensions')
  const dims = Array.from({ length: magic[3]! }, (_, i) => dimBytes.readUInt32BE(i * 4))
  if (dims.some((d) => d === 0)) throw emptyInput(file)
  return { type, dims }
}

export async function importIdx(
  images: InputFile,
  labels: InputFile,
  ctx: ImporterContext,
): Promise<ImporterResult> {
  // Progress follows the images file: it is nearly all of the bytes.
  const xr = new ChunkReader(readChunks(images, ctx.onProgress, ctx.signal), images)
  const yr = new ChunkReader(readChunks(labels, undefined, ctx.signal), labels)
  try {
    const xh = await readIdxHeader(xr, images)
    const yh = await readIdxHeader(yr, labels)
    if (xh.dims.length < 2) {
      throw new TandemError(
        'DATASET_MALFORMED_INPUT',
        `${images.name}: an images file needs at least 2 dimensions (count, features…)`,
      )
    }
    if (yh.dims.length !== 1 || !(yh.type.dtype === 'uint8' || yh.type.dtype === 'int32')) {
      throw new TandemError(
        'DATASET_MISMATCHED_INPUT',
        `${labels.name}: a labels file must be 1-dimensional unsigned bytes or ints`,
      )
    }
    const count = xh.dims[0]!
    if (yh.dims[0] !== count) {
      throw new TandemError(
        'DATASET_MISMATCHED_INPUT',
        `${images.name} has ${count} records but ${labels.name} has ${yh.dims[0]} labels`,
      )
    }
    const shape = xh.dims.slice(1)
    checkRecordSize(images, shape, xh.type)
    const labelDtype = yh.type.dtype === 'uint8' ? 'uint8' : 'int32'
    const layout: TensorLayout = {
      kind: 'tensors',
      shape,
      dtype: xh.type.dtype,
      // 8-bit unsigned IDX data are images by convention: scale them to [0, 1].
      scale: xh.type.dtype === 'uint8' ? 1 / 255 : 1,
      labels: { dtype: labelDtype, classes: 1 },
    }
    const features = featureCount(layout)
    const featureBytes = features * (xh.type.dtype === 'float32' ? 4 : xh.type.bytes)
    const labelBytes = labelDtype === 'uint8' ? 1 : 4
    const shardRecords = pickShardRecords(featureBytes + labelBytes, ctx.shardSize)
    const spool = createSpool(ctx, { shardRecords, featureBytes, labelBytes })
    try {
      let maxLabel = 0
      const label = Buffer.alloc(labelBytes)
      for (let i = 0; i < count; i++) {
        const x = await xr.require(features * xh.type.bytes, `image ${i} of ${count}`)
        const y = await yr.require(yh.type.bytes, `label ${i} of ${count}`)
        const value = labelDtype === 'uint8' ? y[0]! : y.readInt32BE(0)
        if (value < 0 || value >= 1 << 24) {
          throw new TandemError('DATASET_MALFORMED_INPUT', `${labels.name}: label ${i} is ${value}`)
        }
        if (labelDtype === 'uint8') label[0] = value
        else label.writeInt32LE(value, 0)
        maxLabel = Math.max(maxLabel, value)
        const converted = xh.type.convert(x, features)
        if (xh.type.dtype === 'float32') checkFinite(images, converted, i)
        await spool.pushRecord(converted, label)
      }
      for (const [reader, file] of [
        [xr, images],
        [yr, labels],
      ] as const) {
        if (!(await reader.atEnd())) {
          throw new TandemError(
            'DATASET_MALFORMED_INPUT',
            `${file.name}: more data than its ${count} records`,
          )
        }
      }
      layout.labels.classes = maxLabel + 1
      const spooled = await spool.finish()
      return { importer: 'idx', files: [images, labels], layout, shardRecords, spool, spooled }
    } catch (err) {
      await spool.dispose()
      throw err
    }
  } finally {
    await xr.close()
    await yr.close()
  }
}

/**
 * The dimensions come from the file: a record larger than a shard block (or a dimension the header
 * cannot describe) is malformed input, reported before anything sizes a buffer from it.
 */
function checkRecordSize(file: InputFile, shape: number[], type: IdxType): void {
  const big = shape.find((d) => d > MAX_SHAPE_DIM)
  const bytes = shape.reduce((a, d) => a * d, type.dtype === 'float32' ? 4 : type.bytes)
  if (big !== undefined || bytes > MAX_BLOCK_BYTES) {
    throw new TandemError(
      'DATASET_MALFORMED_INPUT',
      `${file.name}: records of shape [${shape.join(', ')}] are too large (at most ${MAX_BLOCK_BYTES} bytes and ${MAX_SHAPE_DIM} per dimension)`,
    )
  }
}

/** NaN or ±Infinity features (float IDX) would poison training: refuse them, naming the record. */
function checkFinite(file: InputFile, le: Uint8Array, record: number): void {
  const view = new DataView(le.buffer, le.byteOffset, le.byteLength)
  for (let o = 0; o < le.byteLength; o += 4) {
    if (!Number.isFinite(view.getFloat32(o, true))) {
      throw new TandemError(
        'DATASET_MALFORMED_INPUT',
        `${file.name}: record ${record}, feature ${o / 4} is ${view.getFloat32(o, true)} (not a finite float32)`,
      )
    }
  }
}
