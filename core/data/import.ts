/**
 * `dataset import`: picks the importer, spools shards in a private temp dir, then writes the core.
 * Whatever fails (or aborts), the temp dir goes and no dataset is left behind (see
 * DatasetStore.create); a killed process's temp dir goes at the next store open (import-dirs.ts).
 */
import { basename } from 'node:path'
import { TandemError } from '../api/errors.js'
import type { DatasetStore } from './dataset-store.js'
import {
  classNamesProblem,
  contentHashOf,
  DATASET_FORMAT,
  DATASET_FORMAT_VERSION,
  type DatasetHeader,
  type RecordLayout,
} from './header.js'
import type { ImporterContext, ImporterResult, ShardSize } from './importers/common.js'
import { importCsv } from './importers/csv.js'
import { importIdx } from './importers/idx.js'
import { importText, type VocabKind } from './importers/text.js'
import { makeImportDir, removeImportDir } from './import-dirs.js'
import { probeInput, type InputFile } from './input.js'

export type ImportFormat = 'text' | 'idx' | 'csv'

export interface ImportOptions {
  file: string
  /** IDX labels file (required for IDX images). */
  labels?: string
  /** Default: sniffed from the IDX magic, else the extension (.csv → csv, anything else → text). */
  format?: ImportFormat
  name?: string
  description?: string
  license?: string
  shardSize?: ShardSize
  vocab?: VocabKind
  /** Fraction of shards held out for validation (the last ones). Default 0.1. */
  validation?: number
  labelColumn?: string
  /** The name of each class, by index (CSV and IDX; a CSV whose labels are words names them itself). */
  classNames?: string[]
  /** Called with (bytes read, total bytes) of the main input file. */
  onProgress?: (read: number, total: number) => void
  /** Aborts the import with the signal's reason (DATASET_IMPORT_ABORTED from the CLI). */
  signal?: AbortSignal
}

export interface ImportResult {
  key: string
  header: DatasetHeader
  /** Bytes of shard data written (the dataset's size without its header), not input bytes. */
  shardBytes: number
}

export function detectFormat(file: InputFile): ImportFormat {
  const m = file.magic
  // An IDX file starts 00 00 <type> <ndims>; text and CSV never start with two NUL bytes.
  if (m.length === 4 && m[0] === 0 && m[1] === 0 && m[3]! >= 1 && m[3]! <= 8) {
    return 'idx'
  }
  const name = file.name.toLowerCase().replace(/\.gz$/, '')
  if (/idx\d?-?u?byte|\.idx\d?$/.test(name)) return 'idx'
  if (name.endsWith('.csv')) return 'csv'
  return 'text'
}

function checkValidationFraction(fraction: number): void {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new TandemError('BAD_ARGUMENT', '--validation must be a fraction in [0, 1)')
  }
}

export function validationShards(shards: number, fraction: number): number {
  checkValidationFraction(fraction)
  if (fraction === 0 || shards < 2) return 0
  return Math.min(shards - 1, Math.max(1, Math.round(fraction * shards)))
}

/** The importer's layout with the class names given, checked against its classes. */
function withClassNames(layout: RecordLayout, names: string[] | undefined): RecordLayout {
  if (!names) return layout
  if (layout.kind !== 'tensors')
    throw new TandemError('BAD_ARGUMENT', '--class-names is for labelled records (CSV, IDX)')
  if (layout.labels.names)
    throw new TandemError('BAD_ARGUMENT', "--class-names: the CSV's labels name the classes")
  const why = classNamesProblem(names, layout.labels.classes)
  if (why) throw new TandemError('BAD_ARGUMENT', `--class-names: ${why}`)
  return { ...layout, labels: { ...layout.labels, names } }
}

async function runImporter(
  opts: ImportOptions,
  main: InputFile,
  ctx: ImporterContext,
): Promise<ImporterResult> {
  const format = opts.format ?? detectFormat(main)
  if (format === 'idx') {
    if (!opts.labels) {
      throw new TandemError('BAD_ARGUMENT', 'an IDX import needs --labels <labels file>')
    }
    return importIdx(main, await probeInput(opts.labels), ctx)
  }
  if (opts.labels) throw new TandemError('BAD_ARGUMENT', '--labels is only for IDX images')
  if (format === 'csv') return importCsv(main, { labelColumn: opts.labelColumn }, ctx)
  return importText(main, opts.vocab ?? 'byte', ctx)
}

export async function importDataset(
  store: DatasetStore,
  opts: ImportOptions,
): Promise<ImportResult> {
  // Options are checked before any input is read: a typo should not cost a pass over 10 GB.
  checkValidationFraction(opts.validation ?? 0.1)
  const names = opts.classNames
  const why = names && classNamesProblem(names, names.length)
  if (why) throw new TandemError('BAD_ARGUMENT', `--class-names: ${why}`)
  opts.signal?.throwIfAborted()
  const main = await probeInput(opts.file)
  const tmpDir = await makeImportDir(store.tmpDir)
  try {
    const ctx: ImporterContext = {
      tmpDir,
      shardSize: opts.shardSize ?? {},
      onProgress: opts.onProgress ? (read) => opts.onProgress?.(read, main.size) : undefined,
      signal: opts.signal,
    }
    const result = await runImporter(opts, main, ctx)
    const { spooled, shardRecords } = result
    const layout = withClassNames(result.layout, opts.classNames)
    const shards = spooled.shardHashes.length
    const header: DatasetHeader = {
      format: DATASET_FORMAT,
      version: DATASET_FORMAT_VERSION,
      name: opts.name ?? defaultName(main.name),
      description: opts.description ?? '',
      license: opts.license ?? 'unspecified',
      source: { importer: result.importer, files: result.files.map((f) => f.name) },
      layout,
      records: spooled.records,
      shardRecords,
      shards,
      validation: { shards: validationShards(shards, opts.validation ?? 0.1) },
      shardHashes: spooled.shardHashes,
      contentHash: contentHashOf(spooled.shardHashes),
    }
    opts.signal?.throwIfAborted()
    const key = await store.create(header, result.spool.batches(spooled.shardSizes), {
      signal: opts.signal,
    })
    const shardBytes = spooled.shardSizes.reduce((a, b) => a + b, 0)
    return { key, header, shardBytes }
  } finally {
    await removeImportDir(tmpDir)
  }
}

function defaultName(file: string): string {
  return (
    basename(file)
      .replace(/\.gz$/, '')
      .replace(/\.[^.]*$/, '') || file
  )
}
