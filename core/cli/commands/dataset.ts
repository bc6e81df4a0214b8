/**
 * `tandem dataset import|info|list`: datasets in this node's corestore (TANDEM_HOME/data).
 */
import { SingleBar } from 'cli-progress'
import type { Command } from 'commander'
import { TandemError } from '../../api/errors.js'
import { DatasetStore } from '../../data/dataset-store.js'
import { trainingShardCount, vocabSize, type DatasetHeader } from '../../data/header.js'
import { importDataset, type ImportFormat } from '../../data/import.js'
import type { ShardSize } from '../../data/importers/common.js'
import type { CliIO } from '../io.js'

interface ImportFlags {
  labels?: string
  format?: string
  name?: string
  description?: string
  license?: string
  shardSize?: string
  vocab?: string
  validation?: string
  labelColumn?: string
  classNames?: string
  json?: boolean
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1 << 20,
}

/** "4096" is records (tokens for text); "256KiB", "1MB", "1m" are a target shard size in bytes. */
export function parseShardSize(text: string): ShardSize {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = m?.[2]?.toLowerCase() ?? ''
  const value = Number(m?.[1])
  if (!m || !(unit in UNITS) || !(value > 0)) {
    throw new TandemError(
      'BAD_ARGUMENT',
      `--shard-size "${text}": want records (4096) or bytes (1MiB)`,
    )
  }
  if (unit === '') {
    if (!Number.isInteger(value))
      throw new TandemError('BAD_ARGUMENT', '--shard-size records must be whole')
    return { records: value }
  }
  return { bytes: Math.floor(value * UNITS[unit]!) }
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: T[],
): T | undefined {
  if (value === undefined) return undefined
  if (!(allowed as string[]).includes(value)) {
    throw new TandemError('BAD_ARGUMENT', `${flag} must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

async function withStore<T>(fn: (store: DatasetStore) => Promise<T>): Promise<T> {
  const store = await DatasetStore.open()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

function describeLayout(h: DatasetHeader): string {
  const l = h.layout
  if (l.kind === 'tokens') return `text tokens, ${l.vocab.kind} vocabulary of ${vocabSize(l)}`
  return `tensors [${l.shape.join('×')}] ${l.dtype}, ${l.labels.classes} classes`
}

export function registerDataset(program: Command, io: CliIO): void {
  const dataset = program.command('dataset').description('import, inspect and list datasets')

  dataset
    .command('import <file>')
    .description('import a text corpus, IDX images + labels (MNIST), or a CSV of numbers')
    .option('--labels <file>', 'IDX labels file (for IDX images)')
    .option('--format <format>', 'text, idx or csv (default: detected)')
    .option('--name <name>', 'dataset name (default: the file name)')
    .option('--description <text>', 'what the data is')
    .option('--license <license>', 'license of the data, e.g. CC-BY-4.0')
    .option('--shard-size <size>', 'records per shard (4096) or bytes per shard (1MiB)', '1MiB')
    .option('--vocab <kind>', 'text tokens: byte or char', 'byte')
    .option('--validation <fraction>', 'fraction of shards held out for validation', '0.1')
    .option('--label-column <column>', 'CSV label column: name or 0-based index')
    .option('--class-names <names>', 'the name of each class, comma-separated, by index')
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: ImportFlags) => {
      const validation = Number(flags.validation)
      // Ctrl-C or a service stop aborts cleanly: the spool and any half-written core are removed
      // before exit. A second signal kills at once (default handler); the next open cleans up.
      const abort = new AbortController()
      const onSignal = (signal: NodeJS.Signals) =>
        abort.abort(
          new TandemError(
            'DATASET_IMPORT_ABORTED',
            `import stopped by ${signal}; nothing was kept`,
          ),
        )
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      const bar =
        process.stderr.isTTY && !flags.json
          ? new SingleBar({
              stream: process.stderr,
              format: 'importing [{bar}] {percentage}% | {value}/{total} MB',
              hideCursor: true,
            })
          : null
      let started = false
      const result = await withStore((store) =>
        importDataset(store, {
          file,
          labels: flags.labels,
          format: oneOf<ImportFormat>('--format', flags.format, ['text', 'idx', 'csv']),
          name: flags.name,
          description: flags.description,
          license: flags.license,
          shardSize: parseShardSize(flags.shardSize ?? '1MiB'),
          vocab: oneOf('--vocab', flags.vocab, ['byte', 'char']),
          validation,
          labelColumn: flags.labelColumn,
          ...(flags.classNames ? { classNames: flags.classNames.split(',') } : {}),
          signal: abort.signal,
          onProgress: bar
            ? (read, total) => {
                const mb = (n: number) => Math.round(n / 1e5) / 10
                if (!started) bar.start(mb(total), 0)
                started = true
                bar.update(mb(read))
              }
            : undefined,
        }).finally(() => {
          bar?.stop()
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
        }),
      )
      if (flags.json) {
        io.out(JSON.stringify({ key: result.key, header: summary(result.header) }) + '\n')
        return
      }
      const h = result.header
      io.out(
        `imported "${printable(h.name)}": ${h.records} records in ${h.shards} shards (${h.validation.shards} for validation)\n`,
      )
      io.out(`key ${result.key}\n`)
    })

  dataset
    .command('info <key>')
    .description("show a dataset's header, size and how many shards are on this node")
    .option('--json', 'print one JSON object')
    .action(async (key: string, flags: { json?: boolean }) => {
      await withStore(async (store) => {
        const ds = await store.openLocal(key)
        try {
          const local = await ds.localShards()
          const bytes = Array.from({ length: ds.header.shards }, (_, s) => ds.shardBytes(s))
          const total = bytes.reduce((a, b) => a + b, 0)
          const localBytes = local.reduce((a, s) => a + bytes[s]!, 0)
          const info = {
            key: ds.keyHex,
            ...summary(ds.header),
            bytes: total,
            localShards: local.length,
            localBytes,
          }
          if (flags.json) {
            io.out(JSON.stringify(info) + '\n')
            return
          }
          const h = ds.header
          const rows: Array<[string, string]> = [
            ['key', info.key],
            ['name', printable(h.name)],
            ['description', printable(h.description) || '—'],
            ['license', printable(h.license)],
            ['layout', describeLayout(h)],
            ['records', String(h.records)],
            [
              'shards',
              `${h.shards} × ${h.shardRecords} records (${trainingShardCount(h)} training, ${h.validation.shards} validation)`,
            ],
            ['size', `${(total / 1e6).toFixed(2)} MB`],
            ['local', `${local.length}/${h.shards} shards, ${(localBytes / 1e6).toFixed(2)} MB`],
            ['content hash', h.contentHash],
          ]
          for (const [k, v] of rows) io.out(`${k.padEnd(12)}  ${v}\n`)
        } finally {
          await ds.close()
        }
      })
    })

  dataset
    .command('list')
    .description('list the datasets on this node')
    .option('--json', 'print one JSON array')
    .action(async (flags: { json?: boolean }) => {
      const entries = await withStore(async (store) => store.list())
      if (flags.json) {
        io.out(JSON.stringify(entries) + '\n')
        return
      }
      if (!entries.length) io.out('no datasets (import one with `tandem dataset import <file>`)\n')
      for (const e of entries) io.out(`${e.key}  ${e.role.padEnd(7)}  ${printable(e.name)}\n`)
    })
}

/**
 * Header text comes from peers: printed raw, a name could carry terminal escape sequences (rewrite
 * the screen, set the title, fake other output). Control and bidi-override characters are dropped
 * for display only; the stored header and --json output (which escapes them) are unchanged.
 */
export function printable(text: string): string {
  let out = ''
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    if (c === 0x09 || c === 0x0a || c === 0x0d) out += ' '
    else if (!hidden(c)) out += ch
  }
  return out
}

/** C0 and C1 controls, DEL, and the marks and overrides that reorder text (Trojan Source). */
const hidden = (c: number): boolean =>
  c < 0x20 ||
  (c >= 0x7f && c <= 0x9f) ||
  c === 0x200e ||
  c === 0x200f ||
  (c >= 0x202a && c <= 0x202e) ||
  (c >= 0x2066 && c <= 0x2069)

/** The header without the per-shard hashes (which can be long). */
function summary(h: DatasetHeader): Omit<DatasetHeader, 'shardHashes'> {
  const { shardHashes: _hashes, ...rest } = h
  return rest
}
