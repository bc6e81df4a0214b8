/**
 * Small state files (settings, scheduler accounting, daemon.json) written so that a crash or power
 * loss at any instant leaves either the old file or the new one, never a torn mix: write a temp
 * file in the same directory, fsync it, rename it over the target, fsync the directory (so the
 * rename itself is durable). Same directory because rename is only atomic within one filesystem.
 *
 * Reading validates what it finds. A file that is not JSON, or does not match its schema, is a coded
 * STATE_CORRUPT error, and the file is first moved aside to `<name>.corrupt-<ts>`: the caller may
 * then start over from defaults without silently destroying what a person might want to inspect or
 * repair.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { z } from 'zod'
import { TandemError } from '../api/errors.js'

export interface WriteOptions {
  /** File mode for a new file (e.g. 0o600 for secrets); subject to the umask. Default 0o644. */
  mode?: number
}

/** Replaces `path` with `data` atomically and durably; creates missing parent directories. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const handle = await open(tmp, 'wx', opts.mode ?? 0o644)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (err) {
    // The write's own error is rethrown below; a temp file that cannot be removed is overwritten
    // by the next write of the same path.
    await unlink(tmp).catch(() => {})
    throw new TandemError('STATE_IO', `cannot write ${path}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  await syncDir(dir)
}

/** JSON with two-space indentation and a trailing newline: people do open these files. */
export function writeJsonAtomic(path: string, value: unknown, opts?: WriteOptions): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, opts)
}

/** A zod schema, or a function that returns the checked value and throws on anything else. */
export type Parser<T> = z.ZodType<T> | ((raw: unknown) => T)

export interface ReadOptions {
  /** Move a corrupt file aside before throwing (default true). */
  quarantine?: boolean
  /** Clock for the `.corrupt-<ts>` suffix (tests). */
  now?: () => number
}

/**
 * Reads and validates a JSON file. Returns null when the file does not exist; throws STATE_CORRUPT
 * (after moving the file to `<path>.corrupt-<ts>`) when it is not JSON or fails `parse`, and
 * STATE_IO when it cannot be read at all.
 */
export function readJsonFile<T>(
  path: string,
  parse: Parser<T>,
  opts: ReadOptions = {},
): Promise<T | null> {
  return readCheckedFile(
    path,
    (bytes) => {
      const raw: unknown = JSON.parse(bytes.toString('utf8'))
      return typeof parse === 'function' ? parse(raw) : parse.parse(raw)
    },
    opts,
  )
}

/**
 * Reads a file and decodes it with `decode`, which throws on anything it does not accept. Null when
 * the file does not exist; STATE_CORRUPT (the file moved aside first, unless `quarantine` is false)
 * when `decode` throws; STATE_IO when it cannot be read.
 */
export async function readCheckedFile<T>(
  path: string,
  decode: (bytes: Buffer) => T,
  opts: ReadOptions = {},
): Promise<T | null> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new TandemError('STATE_IO', `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  let problem: string
  try {
    return decode(bytes)
  } catch (err) {
    problem = describeProblem(err)
  }
  let where = ''
  if (opts.quarantine ?? true) {
    const aside = await quarantine(path, (opts.now ?? Date.now)())
    where = aside ? `; moved aside to ${aside}` : ''
  }
  throw new TandemError('STATE_CORRUPT', `${path} is corrupt (${problem})${where}`)
}

/** Renames a bad file to `<path>.corrupt-<ts>` (never over an earlier one); null if that failed. */
async function quarantine(path: string, ts: number): Promise<string | null> {
  for (let n = 0; n < 100; n++) {
    const aside = `${path}.corrupt-${ts}${n ? `-${n}` : ''}`
    try {
      // Reserve the name with an exclusive create, then rename over it: an earlier corrupt copy
      // with the same timestamp is never replaced.
      const probe = await open(aside, 'wx')
      await probe.close()
      await rename(path, aside)
      await syncDir(dirname(path))
      return aside
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      return null
    }
  }
  return null
}

function describeProblem(err: unknown): string {
  if (err instanceof SyntaxError) return `not JSON: ${err.message}`
  const issues = (err as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues
  if (Array.isArray(issues) && issues[0]) {
    const first = issues[0]
    const at = first.path.length ? ` at ${first.path.map(String).join('.')}` : ''
    return `${first.message}${at}`
  }
  return err instanceof Error ? err.message : String(err)
}

/**
 * Makes a rename durable. Directories cannot be opened for fsync on Windows (EPERM/EISDIR); NTFS
 * journals the rename itself there, so skipping is right.
 */
async function syncDir(dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // best effort: see above
  } finally {
    await handle?.close()
  }
}
