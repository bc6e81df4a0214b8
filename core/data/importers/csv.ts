/**
 * CSV of numbers with one label column. Features become float32. Labels are class indexes (0, 1,
 * 2, …), or words that name the classes (decided by the first label; numbered in order of first
 * appearance, the names go into the header). The first row is a header when any of its fields is
 * not a number, so a file with word labels needs a header row. Quoting is not supported: the format
 * is numbers only, so a quote is reported as malformed rather than guessed at.
 */
import { TandemError } from '../../api/errors.js'
import { ClassName, MAX_CLASS_NAMES, type TensorLayout } from '../header.js'
import { readChunks, type InputFile } from '../input.js'
import {
  createSpool,
  emptyInput,
  pickShardRecords,
  type ImporterContext,
  type ImporterResult,
} from './common.js'
import type { ShardSpool } from '../spool.js'

export interface CsvOptions {
  /** Column name (with a header row) or 0-based index; default: "label" if present, else the last. */
  labelColumn?: string
}

async function* lines(file: InputFile, ctx: ImporterContext): AsyncGenerator<[string, boolean]> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let rest = ''
  for await (const chunk of readChunks(file, ctx.onProgress, ctx.signal)) {
    let text: string
    try {
      text = rest + decoder.decode(chunk, { stream: true })
    } catch {
      throw new TandemError('DATASET_MALFORMED_INPUT', `${file.name}: not valid UTF-8`)
    }
    const parts = text.split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) yield [line, true]
  }
  // The last line is complete only when the file ends with a newline.
  if (rest.length) yield [rest, false]
}

const isNumber = (s: string) => s.trim() !== '' && Number.isFinite(Number(s))

export async function importCsv(
  file: InputFile,
  opts: CsvOptions,
  ctx: ImporterContext,
): Promise<ImporterResult> {
  let columns = 0
  let labelAt = -1
  let lineNo = 0
  let spool: ShardSpool | null = null
  let shardRecords = 0
  let maxLabel = 0
  let features: Buffer | null = null
  const label = Buffer.alloc(4)
  /** Whether the label column holds class names (decided by its first value), and their indexes. */
  let named: boolean | null = null
  const names = new Map<string, number>()
  try {
    for await (const [raw, complete] of lines(file, ctx)) {
      lineNo++
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      if (line.trim() === '') continue
      const fields = line.split(',')
      if (columns === 0) {
        columns = fields.length
        if (columns < 2) {
          throw new TandemError(
            'DATASET_MALFORMED_INPUT',
            `${file.name}: need at least one feature column and a label column`,
          )
        }
        const header = fields.some((f) => !isNumber(f)) ? fields.map((f) => f.trim()) : null
        labelAt = resolveLabelColumn(file, header, columns, opts.labelColumn)
        const featureBytes = (columns - 1) * 4
        shardRecords = pickShardRecords(featureBytes + 4, ctx.shardSize)
        spool = createSpool(ctx, { shardRecords, featureBytes, labelBytes: 4 })
        features = Buffer.alloc(featureBytes)
        if (header) continue
      }
      if (fields.length !== columns) {
        throw new TandemError(
          complete ? 'DATASET_MALFORMED_INPUT' : 'DATASET_TRUNCATED_INPUT',
          `${file.name} line ${lineNo}: ${fields.length} fields, expected ${columns}` +
            (complete ? '' : ' (the file ends mid-row)'),
        )
      }
      let k = 0
      for (let c = 0; c < columns; c++) {
        const field = fields[c]!
        const value = Number(field)
        if (c === labelAt && (named ??= !isNumber(field))) {
          // Labels that are words name the classes, numbered in order of first appearance.
          const name = field.trim()
          let index = names.get(name)
          if (index === undefined) {
            if (!ClassName.safeParse(name).success || names.size >= MAX_CLASS_NAMES)
              throw new TandemError(
                'DATASET_MALFORMED_INPUT',
                `${file.name} line ${lineNo}: label "${name.slice(0, 40)}" cannot name a class (1–100 printable characters, at most ${MAX_CLASS_NAMES} classes)`,
              )
            names.set(name, (index = names.size))
          }
          label.writeInt32LE(index, 0)
          maxLabel = Math.max(maxLabel, index)
          continue
        }
        if (!isNumber(field)) {
          throw new TandemError(
            'DATASET_MALFORMED_INPUT',
            `${file.name} line ${lineNo}, column ${c + 1}: "${field.slice(0, 40)}" is not a number`,
          )
        }
        if (c === labelAt) {
          if (!Number.isInteger(value) || value < 0 || value >= 1 << 24) {
            throw new TandemError(
              'DATASET_MALFORMED_INPUT',
              `${file.name} line ${lineNo}: label "${field}" is not a class index (0, 1, 2, …)`,
            )
          }
          label.writeInt32LE(value, 0)
          maxLabel = Math.max(maxLabel, value)
        } else {
          // 1e39 is a fine double but Infinity as float32: training on it poisons every weight.
          if (!Number.isFinite(Math.fround(value))) {
            throw new TandemError(
              'DATASET_MALFORMED_INPUT',
              `${file.name} line ${lineNo}, column ${c + 1}: ${field.trim().slice(0, 40)} is out of float32 range`,
            )
          }
          features!.writeFloatLE(value, 4 * k++)
        }
      }
      await spool!.pushRecord(features!, label)
    }
    if (!spool) throw emptyInput(file)
    const spooled = await spool.finish()
    if (spooled.records === 0) throw emptyInput(file)
    const layout: TensorLayout = {
      kind: 'tensors',
      shape: [columns - 1],
      dtype: 'float32',
      scale: 1,
      labels: {
        dtype: 'int32',
        classes: maxLabel + 1,
        ...(named ? { names: [...names.keys()] } : {}),
      },
    }
    return { importer: 'csv', files: [file], layout, shardRecords, spool, spooled }
  } catch (err) {
    await spool?.dispose()
    throw err
  }
}

function resolveLabelColumn(
  file: InputFile,
  header: string[] | null,
  columns: number,
  wanted: string | undefined,
): number {
  if (wanted === undefined) {
    const named = header?.indexOf('label') ?? -1
    return named >= 0 ? named : columns - 1
  }
  const byName = header?.indexOf(wanted) ?? -1
  if (byName >= 0) return byName
  const index = Number(wanted)
  if (Number.isInteger(index) && index >= 0 && index < columns) return index
  throw new TandemError(
    'BAD_ARGUMENT',
    `${file.name}: no label column "${wanted}" (columns: ${header?.join(', ') ?? `0…${columns - 1}`})`,
  )
}
