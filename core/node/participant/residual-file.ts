/**
 * The error-feedback residual of one project between runs (`residual-<project>.bin`): what int8 or
 * top-k compression left out of the updates sent so far, to be added to the next one. Without it a
 * restarted contributor silently drops that part of its work.
 *
 * The file names the update it follows (the hash of the last update published with it), so a
 * reader can tell whether it is current: after a crash between publishing an update and saving
 * the residual, the file on disk is one update behind. That update already carried the old
 * residual, and adding it again would send it twice; the participant starts from zero instead.
 *
 * Layout (little-endian): 'TEF1' | update hash (32 bytes) | n (u32) | n × f32 | SHA-256 of all the
 * bytes before it. Written with writeFileAtomic (never torn); the checksum catches anything else.
 */
import { createHash } from 'node:crypto'
import { endianness } from 'node:os'
import { readCheckedFile, writeFileAtomic } from '../atomic-file.js'

const MAGIC = Buffer.from('TEF1', 'latin1')
const HEAD = MAGIC.byteLength + 32 + 4
const SUM = 32
const LITTLE_ENDIAN = endianness() === 'LE'

export interface SavedResidual {
  /** Hex hash of the update this residual follows. */
  updateHash: string
  residual: Float32Array
}

export function encodeResidual(saved: SavedResidual): Buffer {
  const hash = Buffer.from(saved.updateHash, 'hex')
  if (hash.byteLength !== 32) throw new RangeError('updateHash must be 32 bytes of hex')
  const n = saved.residual.length
  const out = Buffer.alloc(HEAD + n * 4 + SUM)
  MAGIC.copy(out, 0)
  hash.copy(out, MAGIC.byteLength)
  out.writeUInt32LE(n, MAGIC.byteLength + 32)
  if (LITTLE_ENDIAN) {
    const r = saved.residual
    Buffer.from(r.buffer, r.byteOffset, r.byteLength).copy(out, HEAD)
  } else for (let i = 0; i < n; i++) out.writeFloatLE(saved.residual[i] as number, HEAD + i * 4)
  createHash('sha256')
    .update(out.subarray(0, HEAD + n * 4))
    .digest()
    .copy(out, HEAD + n * 4)
  return out
}

/** Throws a plain Error naming what is wrong (readCheckedFile turns it into STATE_CORRUPT). */
export function decodeResidual(bytes: Buffer): SavedResidual {
  if (bytes.byteLength < HEAD + SUM || !bytes.subarray(0, MAGIC.byteLength).equals(MAGIC))
    throw new Error('not a residual file')
  const n = bytes.readUInt32LE(MAGIC.byteLength + 32)
  if (bytes.byteLength !== HEAD + n * 4 + SUM)
    throw new Error(`${bytes.byteLength} bytes for ${n} values`)
  const body = bytes.subarray(0, HEAD + n * 4)
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(bytes.subarray(HEAD + n * 4))
  )
    throw new Error('checksum mismatch')
  const residual = new Float32Array(n)
  if (LITTLE_ENDIAN) Buffer.from(residual.buffer).set(bytes.subarray(HEAD, HEAD + n * 4))
  else for (let i = 0; i < n; i++) residual[i] = bytes.readFloatLE(HEAD + i * 4)
  return { updateHash: bytes.toString('hex', MAGIC.byteLength, MAGIC.byteLength + 32), residual }
}

export function saveResidual(path: string, saved: SavedResidual): Promise<void> {
  return writeFileAtomic(path, encodeResidual(saved))
}

/** Null when there is none; STATE_CORRUPT (file moved aside) when it is damaged. */
export function readResidual(path: string): Promise<SavedResidual | null> {
  return readCheckedFile(path, decodeResidual)
}
