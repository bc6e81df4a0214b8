/**
 * The host's offer journal: what it received during the open round, and when, on local disk.
 *
 * The ledger records a round only when it closes (receipt + next checkpoint in one batch), so a host
 * killed mid-round would otherwise forget which offers arrived before the deadline. Updates are
 * safe in the contributors' own cores, but the *arrival time* that makes an offer on time exists
 * only on the host. Each offer is appended (one JSON line, fsync'd) before it is acknowledged as
 * `received`; a restarted host reads the journal back, fetches the same updates again and judges
 * them by their original arrival times. A deadline extension is journaled the same way.
 *
 * One file per round (`round-<r>.jsonl`). A line that does not parse (the tail of a write cut by
 * the crash) is skipped: the offer it held was never acknowledged, and the contributor re-offers it
 * when the host re-announces the round. Reading ends such a tail with a newline so later appends
 * are whole lines. Files of rounds that have a receipt are deleted.
 */
import { appendFile, mkdir, open, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const Uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

export const JournalOffer = z
  .object({
    t: z.literal('offer'),
    round: Uint,
    contributor: Hex32,
    core: Hex32,
    start: Uint,
    length: Uint,
    byteLength: Uint,
    hash: Hex32,
    samples: Uint,
    receivedAt: Uint,
    signatureValid: z.boolean(),
  })
  .strict()
export type JournalOffer = z.infer<typeof JournalOffer>

const JournalExtend = z.object({ t: z.literal('extend'), round: Uint, deadline: Uint }).strict()
export type JournalExtend = z.infer<typeof JournalExtend>

const Line = z.discriminatedUnion('t', [JournalOffer, JournalExtend])
type Line = z.infer<typeof Line>

export interface JournalContents {
  offers: JournalOffer[]
  /** The latest extended deadline, if the round was extended. */
  deadline: number | null
}

export class OfferJournal {
  constructor(readonly dir: string) {}

  private file(round: number): string {
    return join(this.dir, `round-${round}.jsonl`)
  }

  async read(round: number): Promise<JournalContents> {
    let text: string
    try {
      text = await readFile(this.file(round), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { offers: [], deadline: null }
      throw err
    }
    // A torn tail has no newline: end it, so the next append starts a line of its own.
    if (text.length > 0 && !text.endsWith('\n')) await appendFile(this.file(round), '\n')
    const out: JournalContents = { offers: [], deadline: null }
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch {
        continue // a torn last line
      }
      const parsed = Line.safeParse(value)
      if (!parsed.success || parsed.data.round !== round) continue
      if (parsed.data.t === 'offer') out.offers.push(parsed.data)
      else out.deadline = Math.max(out.deadline ?? 0, parsed.data.deadline)
    }
    return out
  }

  /** Appends one line and fsyncs it: when this resolves, the line survives a crash. */
  async append(line: Line): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const handle = await open(this.file(line.round), 'a')
    try {
      await handle.write(`${JSON.stringify(line)}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
  }

  /** Deletes the files of every round before `round` (they have receipts). */
  async prune(round: number): Promise<void> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      // No directory (nothing journaled yet) or none readable: nothing to prune here, and a stale
      // file left behind is ignored (read() takes only its own round's lines).
      return
    }
    for (const name of names) {
      const m = /^round-(\d+)\.jsonl$/.exec(name)
      if (m && Number(m[1]) < round) await rm(join(this.dir, name), { force: true })
    }
  }
}
