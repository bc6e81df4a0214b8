/**
 * UTF-8 text corpora. Byte vocabulary: token = byte (256 ids, one pass). Char vocabulary: token =
 * index of the code point among the corpus's distinct code points in ascending order, which needs
 * a first pass to build the vocabulary (the input is read twice, never held in memory).
 */
import { stat } from 'node:fs/promises'
import { TandemError } from '../../api/errors.js'
import type { TokenLayout } from '../header.js'
import { readChunks, type InputFile } from '../input.js'
import {
  createSpool,
  emptyInput,
  pickShardRecords,
  type ImporterContext,
  type ImporterResult,
} from './common.js'

export type VocabKind = 'byte' | 'char'

/** Decodes chunks as UTF-8, mapping decoder failures to coded errors. */
async function* decodeUtf8(file: InputFile, chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  let offset = 0
  for await (const chunk of chunks) {
    try {
      yield decoder.decode(chunk, { stream: true })
    } catch {
      throw new TandemError(
        'DATASET_MALFORMED_INPUT',
        `${file.name}: not valid UTF-8 (near byte ${offset})`,
      )
    }
    offset += chunk.length
  }
  try {
    yield decoder.decode()
  } catch {
    throw new TandemError('DATASET_TRUNCATED_INPUT', `${file.name}: ends inside a UTF-8 character`)
  }
}

async function collectVocab(file: InputFile, signal?: AbortSignal): Promise<string[]> {
  const seen = new Set<number>()
  for await (const text of decodeUtf8(file, readChunks(file, undefined, signal))) {
    for (const ch of text) seen.add(ch.codePointAt(0)!)
  }
  if (seen.size > 65536) {
    throw new TandemError(
      'DATASET_MALFORMED_INPUT',
      `${file.name}: ${seen.size} distinct characters do not fit a 16-bit vocabulary; use --vocab byte`,
    )
  }
  return [...seen].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp))
}

export async function importText(
  file: InputFile,
  vocab: VocabKind,
  ctx: ImporterContext,
): Promise<ImporterResult> {
  let layout: TokenLayout
  let ids: Map<string, number> | null = null
  let before = ''
  if (vocab === 'char') {
    // First pass without progress: the bar tracks the encoding pass, which writes the shards.
    before = await fingerprint(file)
    const symbols = await collectVocab(file, ctx.signal)
    ids = new Map(symbols.map((s, i) => [s, i]))
    layout = {
      kind: 'tokens',
      dtype: symbols.length <= 256 ? 'uint8' : 'uint16',
      vocab: { kind: 'char', symbols },
    }
  } else {
    layout = { kind: 'tokens', dtype: 'uint8', vocab: { kind: 'byte' } }
  }
  const featureBytes = layout.dtype === 'uint8' ? 1 : 2
  const shardRecords = pickShardRecords(featureBytes, ctx.shardSize)
  const spool = createSpool(ctx, { shardRecords, featureBytes, labelBytes: 0 })
  try {
    if (ids === null) {
      // Byte tokens are the input bytes; decoding only validates that the corpus is UTF-8.
      const decoder = new TextDecoder('utf-8', { fatal: true })
      const bytes = readChunks(file, ctx.onProgress, ctx.signal)
      let offset = 0
      for await (const chunk of bytes) {
        try {
          decoder.decode(chunk, { stream: true })
        } catch {
          throw new TandemError(
            'DATASET_MALFORMED_INPUT',
            `${file.name}: not valid UTF-8 (near byte ${offset})`,
          )
        }
        offset += chunk.length
        await spool.pushRecords(chunk)
      }
      try {
        decoder.decode()
      } catch {
        throw new TandemError(
          'DATASET_TRUNCATED_INPUT',
          `${file.name}: ends inside a UTF-8 character`,
        )
      }
    } else {
      const wide = layout.dtype === 'uint16'
      for await (const text of decodeUtf8(file, readChunks(file, ctx.onProgress, ctx.signal))) {
        const out = wide ? new Uint16Array(text.length) : new Uint8Array(text.length)
        let n = 0
        for (const ch of text) {
          const id = ids.get(ch)
          if (id === undefined) throw changedBetweenPasses(file)
          out[n++] = id
        }
        const view = out.subarray(0, n)
        await spool.pushRecords(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
      }
    }
    // A change that kept to the first pass's characters is caught by size and mtime.
    if (ids !== null && (await fingerprint(file)) !== before) throw changedBetweenPasses(file)
    const spooled = await spool.finish()
    if (spooled.records === 0) throw emptyInput(file)
    return { importer: 'text', files: [file], layout, shardRecords, spool, spooled }
  } catch (err) {
    await spool.dispose()
    throw err
  }
}

/** Size and modification time: enough to tell that the file was rewritten between the passes. */
async function fingerprint(file: InputFile): Promise<string> {
  try {
    const st = await stat(file.path)
    return `${st.size}:${st.mtimeMs}`
  } catch (err) {
    throw new TandemError('BAD_ARGUMENT', `cannot read ${file.path}: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

function changedBetweenPasses(file: InputFile): TandemError {
  return new TandemError(
    'DATASET_MISMATCHED_INPUT',
    `${file.name} changed while it was being imported (the char vocabulary reads it twice); import it again once it is stable`,
  )
}
