/**
 * The node's log: pino (structured, fast, in-process), written as JSON lines to
 * appPaths().log/node.log, and kept in memory as the last 5,000 entries so the API can answer
 * `logs.tail` and push each entry as a 'log' event without reading the file back.
 *
 * Modules get a child logger per subsystem (`log.child('engine')`): the `subsystem` field is what
 * the UI filters on. Every line pino writes passes through the ring buffer's stream, so whatever
 * pino accepts (child bindings, errors, objects) ends up in both places in the same form.
 *
 * The file is rotated once it passes `maxFileBytes` (default 10 MiB): node.log becomes node.log.1
 * (replacing the previous one), so a daemon that runs for months keeps at most twice that.
 */
import { EventEmitter } from 'node:events'
import { mkdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import type { LogEntry } from '../api/contract.js'
import { LOG_LEVELS } from '../api/contract.js'
import { appPaths } from '../util/app-paths.js'

export const LOG_RING_SIZE = 5000
const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
const MAX_MSG = 2000
const MAX_SUBSYSTEM = 32

type LogLevel = LogEntry['level']

export interface NodeLogOptions {
  /** Directory of node.log (default appPaths().log); null: no file, memory only. */
  dir?: string | null
  /** Lowest level recorded anywhere (default 'info'). */
  level?: LogLevel
  ringSize?: number
  maxFileBytes?: number
  /** Also write each JSON line here (e.g. the daemon's stdout). */
  echo?: { write(line: string): unknown }
}

export interface TailQuery {
  limit?: number
  /** Minimum severity: 'warn' gives warnings and errors. */
  level?: LogLevel
  subsystem?: string
}

export interface NodeLogEvents {
  entry: [LogEntry]
}

function toLevel(pinoLevel: number): LogLevel {
  if (pinoLevel <= 20) return 'debug'
  if (pinoLevel <= 30) return 'info'
  if (pinoLevel <= 40) return 'warn'
  return 'error'
}

const rank = (level: LogLevel) => LOG_LEVELS.indexOf(level)

export class NodeLog extends EventEmitter<NodeLogEvents> {
  readonly logger: Logger
  /** node.log, or null when memory only. */
  readonly file: string | null
  private readonly ring: LogEntry[] = []
  private head = 0
  private readonly ringSize: number
  private readonly dest: ReturnType<typeof pino.destination> | null
  private fileBytes = 0
  private closed = false
  private readonly maxFileBytes: number

  constructor(opts: NodeLogOptions = {}) {
    super()
    this.ringSize = opts.ringSize ?? LOG_RING_SIZE
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
    const dir = opts.dir === undefined ? appPaths().log : opts.dir
    const streams: pino.StreamEntry[] = [{ stream: { write: (line: string) => this.record(line) } }]
    if (dir !== null) {
      mkdirSync(dir, { recursive: true })
      this.file = join(dir, 'node.log')
      this.rotateIfLarge(statSize(this.file))
      this.fileBytes = statSize(this.file)
      // Synchronous writes: a few lines a second at most, and the last lines before a crash are
      // the ones that explain it.
      this.dest = pino.destination({ dest: this.file, sync: true, mkdir: true })
      streams.push({ stream: this.dest })
    } else {
      this.file = null
      this.dest = null
    }
    if (opts.echo) streams.push({ stream: opts.echo })
    const level = opts.level ?? 'info'
    this.logger = pino(
      { level, base: { subsystem: 'node' }, timestamp: pino.stdTimeFunctions.epochTime },
      pino.multistream(streams.map((s) => ({ ...s, level }))),
    )
  }

  /** A logger whose lines carry `subsystem` (e.g. engine, net, host, data, api). */
  child(subsystem: string): Logger {
    return this.logger.child({ subsystem: subsystem.slice(0, MAX_SUBSYSTEM) })
  }

  /** The newest entries that match, oldest first (at most `limit`, default 500). */
  tail(query: TailQuery = {}): LogEntry[] {
    const limit = query.limit ?? 500
    const min = query.level ? rank(query.level) : 0
    const out: LogEntry[] = []
    const n = this.ring.length
    for (let i = 0; i < n && out.length < limit; i++) {
      // Newest first: the slot before head, wrapping.
      const entry = this.ring[(this.head - 1 - i + n) % n]!
      if (rank(entry.level) < min) continue
      if (query.subsystem !== undefined && entry.subsystem !== query.subsystem) continue
      out.push(entry)
    }
    return out.reverse()
  }

  /** Writes what is buffered for the file and closes it. */
  async close(): Promise<void> {
    const dest = this.dest
    if (!dest || this.closed) return
    this.closed = true
    await new Promise<void>((resolve) => {
      dest.once('close', () => resolve())
      dest.once('error', () => resolve())
      dest.end()
    })
  }

  private record(line: string): void {
    this.fileBytes += Buffer.byteLength(line)
    let obj: Record<string, unknown>
    try {
      obj = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    const entry = toEntry(obj)
    if (this.ring.length < this.ringSize) this.ring.push(entry)
    else this.ring[this.head] = entry
    this.head = (this.head + 1) % this.ringSize
    this.emit('entry', entry)
    if (this.fileBytes > this.maxFileBytes && this.dest && !this.closed) {
      // The file stream writes this line after us: rotating now puts it first in the new file.
      if (this.rotateIfLarge(this.fileBytes)) {
        this.fileBytes = Buffer.byteLength(line)
        this.dest.reopen()
      }
    }
  }

  /** Moves node.log to node.log.1 when it is too large; false if it could not. */
  private rotateIfLarge(size: number): boolean {
    if (!this.file || size <= this.maxFileBytes) return false
    try {
      renameSync(this.file, `${this.file}.1`)
      return true
    } catch {
      // Held open elsewhere (Windows) or gone: keep appending, try again on a later line.
      return false
    }
  }
}

function toEntry(obj: Record<string, unknown>): LogEntry {
  let msg = typeof obj['msg'] === 'string' ? obj['msg'] : ''
  const err = obj['err'] as { message?: unknown; code?: unknown } | undefined
  if (err && typeof err.message === 'string') {
    const code = typeof err.code === 'string' ? ` [${err.code}]` : ''
    msg = msg ? `${msg}: ${err.message}${code}` : `${err.message}${code}`
  }
  const subsystem = typeof obj['subsystem'] === 'string' ? obj['subsystem'] : 'node'
  const time = typeof obj['time'] === 'number' ? Math.floor(obj['time']) : Date.now()
  return {
    t: time,
    level: toLevel(typeof obj['level'] === 'number' ? obj['level'] : 30),
    subsystem: subsystem.slice(0, MAX_SUBSYSTEM) || 'node',
    msg: msg.length > MAX_MSG ? `${msg.slice(0, MAX_MSG - 1)}…` : msg,
  }
}

function statSize(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}
