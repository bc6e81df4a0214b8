/**
 * Private scratch dirs for imports, `<data>/tmp/import-<pid>-<random>`. An import killed in its
 * spool phase (SIGKILL, power loss) cannot clean up after itself, and its spool is about the size
 * of the input, so the next store open removes every import dir whose owner is gone. The pid in the
 * name says who owns it; dirs of this process are told apart by the set of live ones below, so a
 * pid reused after a reboot does not keep a stale dir alive.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

const PREFIX = 'import-'
/** Import dirs this process is using now. */
const live = new Set<string>()

export async function makeImportDir(tmpRoot: string): Promise<string> {
  await mkdir(tmpRoot, { recursive: true })
  const dir = await mkdtemp(join(tmpRoot, `${PREFIX}${process.pid}-`))
  live.add(dir)
  return dir
}

export async function removeImportDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true })
  } finally {
    live.delete(dir)
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else; only ESRCH means it is gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function isStale(tmpRoot: string, name: string): boolean {
  // Names from before the pid was recorded (import-XXXXXX) cannot be owned by a live import:
  // that older code held the corestore lock, which this process now holds.
  const m = /^import-(\d+)-/.exec(name)
  if (!m) return true
  const pid = Number(m[1])
  if (pid === process.pid) return !live.has(join(tmpRoot, name))
  return !pidAlive(pid)
}

/** Removes import dirs left by dead processes; returns their names. Never throws. */
export async function removeStaleImportDirs(tmpRoot: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(tmpRoot)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    if (!name.startsWith(PREFIX) || !isStale(tmpRoot, name)) continue
    // Best effort: a dir we cannot remove now is tried again at the next open.
    await rm(join(tmpRoot, name), { recursive: true, force: true }).then(
      () => removed.push(name),
      () => {},
    )
  }
  return removed
}
