/**
 * `<state>/daemon.json`: how local clients (the `tandem` CLI) find a running daemon's API. Holds
 * the port, the per-start token and the daemon's pid; written atomically with mode 0600 so only
 * this user can read the token (on Windows the profile directory's ACL plays that part), and
 * removed again on a clean shutdown. A file left by a crashed daemon is recognised by its pid.
 */
import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { appPaths } from '../util/app-paths.js'
import { readJsonFile, writeJsonAtomic } from '../node/atomic-file.js'

export const DaemonInfo = z.object({
  port: z.number().int().min(1).max(65535),
  token: z.string().regex(/^[0-9a-f]{64}$/),
  pid: z.number().int().min(1),
})
export type DaemonInfo = z.infer<typeof DaemonInfo>

export const DAEMON_FILE = 'daemon.json'

export function daemonFilePath(stateDir: string = appPaths().data): string {
  return join(stateDir, DAEMON_FILE)
}

export async function writeDaemonFile(stateDir: string, info: DaemonInfo): Promise<string> {
  const path = daemonFilePath(stateDir)
  await writeJsonAtomic(path, info, { mode: 0o600 })
  return path
}

/**
 * The daemon's info, or null when there is no file. A corrupt file is left where it is (no
 * quarantine: it is rewritten at every daemon start) and reported as STATE_CORRUPT.
 */
export function readDaemonFile(stateDir?: string): Promise<DaemonInfo | null> {
  return readJsonFile(daemonFilePath(stateDir), DaemonInfo, { quarantine: false })
}

/** Removes the file if it still describes `pid` (a newer daemon may have replaced it). */
export async function removeDaemonFile(stateDir: string, pid: number): Promise<void> {
  const path = daemonFilePath(stateDir)
  try {
    const info = await readDaemonFile(stateDir)
    if (info?.pid !== pid) return
    await unlink(path)
  } catch {
    // already gone or unreadable: nothing of ours to remove
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
