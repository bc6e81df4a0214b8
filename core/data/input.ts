/**
 * Reading import input as a stream of chunks: files larger than memory import, gzip is detected by
 * its magic bytes (not the file name), and zlib's and the file system's errors become coded errors.
 */
import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { createGunzip } from 'node:zlib'
import { TandemError } from '../api/errors.js'

export type ProgressFn = (bytesRead: number) => void

export interface InputFile {
  path: string
  name: string
  /** Size on disk (compressed size for gzip). */
  size: number
  gzip: boolean
  /** The first (decompressed) bytes, for format sniffing. */
  magic: Buffer
}

export async function probeInput(path: string): Promise<InputFile> {
  let size: number
  const magic = Buffer.alloc(4)
  let got = 0
  try {
    const st = await stat(path)
    if (!st.isFile()) throw new TandemError('BAD_ARGUMENT', `${path} is not a file`)
    size = st.size
    const fh = await open(path, 'r')
    try {
      got = (await fh.read(magic, 0, 4, 0)).bytesRead
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err instanceof TandemError) throw err
    throw new TandemError('BAD_ARGUMENT', `cannot read ${path}: ${(err as Error).message}`)
  }
  const head = magic.subarray(0, got)
  const gzip = got >= 2 && head[0] === 0x1f && head[1] === 0x8b
  const file = { path, name: basename(path), size, gzip, magic: head }
  return gzip ? { ...file, magic: await sniffGzip(file) } : file
}

/** The first decompressed bytes, to sniff the format inside a .gz (empty if it will not inflate). */
async function sniffGzip(file: InputFile): Promise<Buffer> {
  try {
    for await (const chunk of readChunks(file)) return chunk.subarray(0, 4)
  } catch {
    // a corrupt or truncated stream is reported by the import itself, with its code
  }
  return Buffer.alloc(0)
}

function mapStreamError(err: unknown, file: InputFile, signal?: AbortSignal): TandemError {
  if (err instanceof TandemError) return err
  // An aborted import reports why it was aborted, not the stream's AbortError.
  if (signal?.aborted && signal.reason instanceof TandemError) return signal.reason
  const e = err as NodeJS.ErrnoException
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message ?? '')) {
    return new TandemError('DATASET_TRUNCATED_INPUT', `${file.name}: gzip stream is truncated`, {
      cause: err,
    })
  }
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return new TandemError('DATASET_MALFORMED_INPUT', `${file.name}: corrupt gzip data`, {
      cause: err,
    })
  }
  return new TandemError('BAD_ARGUMENT', `cannot read ${file.name}: ${e.message}`, { cause: err })
}

/**
 * The file's (decompressed) bytes as chunks; `onProgress` gets raw bytes read from disk. `signal`
 * aborts the read at once (even mid-read), throwing its reason.
 */
export async function* readChunks(
  file: InputFile,
  onProgress?: ProgressFn,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  signal?.throwIfAborted()
  const raw = createReadStream(file.path, { highWaterMark: 1 << 20, signal })
  let read = 0
  raw.on('data', (chunk) => {
    read += chunk.length
    onProgress?.(read)
  })
  const source = file.gzip ? raw.pipe(createGunzip()) : raw
  if (file.gzip) raw.on('error', (err) => source.destroy(err))
  try {
    for await (const chunk of source) {
      signal?.throwIfAborted()
      yield chunk as Buffer
    }
  } catch (err) {
    throw mapStreamError(err, file, signal)
  } finally {
    raw.destroy()
    source.destroy()
  }
}

/** Exact-length reads over a chunk stream, for binary formats with fixed-size fields. */
export class ChunkReader {
  private readonly it: AsyncIterator<Buffer>
  private chunks: Buffer[] = []
  private buffered = 0
  private ended = false

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly file: InputFile,
  ) {
    this.it = source[Symbol.asyncIterator]()
  }

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.ended) {
      const next = await this.it.next()
      if (next.done) this.ended = true
      else {
        this.chunks.push(next.value)
        this.buffered += next.value.length
      }
    }
  }

  /** Exactly n bytes; null at a clean end of input; DATASET_TRUNCATED_INPUT mid-field. */
  async read(n: number, what: string): Promise<Buffer | null> {
    await this.fill(n)
    if (this.buffered === 0 && this.ended) return null
    if (this.buffered < n) {
      throw new TandemError(
        'DATASET_TRUNCATED_INPUT',
        `${this.file.name}: input ends inside ${what} (${this.buffered} of ${n} bytes)`,
      )
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    const out = all.subarray(0, n)
    const rest = all.subarray(n)
    this.chunks = rest.length ? [rest] : []
    this.buffered = rest.length
    return out
  }

  async require(n: number, what: string): Promise<Buffer> {
    const out = await this.read(n, what)
    if (!out) {
      throw new TandemError(
        'DATASET_TRUNCATED_INPUT',
        `${this.file.name}: input ends before ${what}`,
      )
    }
    return out
  }

  /** True when nothing is left. */
  async atEnd(): Promise<boolean> {
    await this.fill(1)
    return this.buffered === 0 && this.ended
  }

  async close(): Promise<void> {
    await this.it.return?.()
  }
}
