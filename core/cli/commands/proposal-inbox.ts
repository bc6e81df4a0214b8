/**
 * Proposals for a host that is running as `tandem project host` (docs/governance.md): that process
 * holds the node's store, so `tandem project propose` cannot write the ledger itself; it drops the
 * proposal as a JSON file {title, change} into <data dir>/host/<project>/proposals/, written
 * atomically, and the running host picks it up within POLL_MS, appends it to the ledger and
 * deletes the file (a file it cannot use is renamed *.rejected, with the reason logged).
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { isTandemError } from '../../api/errors.js'
import type { ProjectHost } from '../../host/host.js'
import { Change } from '../../ledger/amendments.js'
import { writeFileAtomic } from '../../node/atomic-file.js'

export const POLL_MS = 1000

const Queued = z.object({ title: z.string().trim().min(1).max(200), change: Change }).strict()

export function inboxDir(dataDir: string, project: string): string {
  return join(dataDir, 'host', project, 'proposals')
}

/** Queues a proposal for the running host; returns the file written. */
export async function queueProposal(
  dataDir: string,
  project: string,
  title: string,
  change: unknown,
): Promise<string> {
  const dir = inboxDir(dataDir, project)
  await mkdir(dir, { recursive: true })
  const path = join(dir, `${Date.now()}-${Math.random().toString(16).slice(2, 10)}.json`)
  await writeFileAtomic(path, JSON.stringify({ title, change }))
  return path
}

/** Polls the inbox of `host`'s project; returns the stop function. */
export function watchProposalInbox(
  dataDir: string,
  host: ProjectHost,
  report: (ok: boolean, text: string, id?: number) => void,
): () => void {
  const dir = inboxDir(dataDir, host.project.toString('hex'))
  let busy = false
  const poll = async () => {
    if (busy) return
    busy = true
    try {
      const names = (await readdir(dir).catch(() => [] as string[]))
        .filter((n) => n.endsWith('.json'))
        .sort()
      for (const name of names) {
        const path = join(dir, name)
        try {
          const parsed = Queued.safeParse(JSON.parse(await readFile(path, 'utf8')))
          if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid')
          const id = await host.propose(parsed.data.title, parsed.data.change)
          await rm(path, { force: true })
          report(true, `proposal ${id} recorded: ${parsed.data.title}`, id)
        } catch (err) {
          await rename(path, `${path}.rejected`).catch(() => {})
          report(
            false,
            `queued proposal ${name} refused: ${isTandemError(err) ? err.message : String(err)}`,
          )
        }
      }
    } finally {
      busy = false
    }
  }
  const timer = setInterval(() => void poll(), POLL_MS)
  timer.unref()
  void poll()
  return () => clearInterval(timer)
}
