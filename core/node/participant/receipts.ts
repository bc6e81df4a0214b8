/**
 * The receipt inbox: this node's contributions as the ledger's receipts record them. Each receipt
 * is read once; our entries in it become ReceiptRecords (with our own send time beside the host's
 * arrival time) and the offer it answers is settled in the outbox. The list is cached on disk
 * (files.ts) only for a quick start: the ledger is the truth and fills it again.
 * docs/node.md, "Participant".
 */
import type { LedgerState } from '../../ledger/reader.js'
import type { ParticipantFiles } from './files.js'
import type { Outbox } from './outbox.js'
import type { ReceiptRecord } from './types.js'

export interface ReceiptInboxOptions {
  /** Our node key (hex): the contributor field of our entries. */
  me: string
  files: ParticipantFiles | null
  outbox: Outbox
  onReceipt: (r: ReceiptRecord) => void
  onWarning: (err: unknown) => void
}

export class ReceiptInbox {
  private readonly list: ReceiptRecord[] = []
  /** Rounds whose receipt has been read. */
  private readonly seen = new Set<number>()

  constructor(private readonly opts: ReceiptInboxOptions) {}

  /** Copies, oldest first. */
  all(): ReceiptRecord[] {
    return this.list.map((r) => ({ ...r }))
  }

  /** The cached list from an earlier run, if any. */
  async load(): Promise<void> {
    try {
      this.list.push(...((await this.opts.files?.readReceipts()) ?? []))
    } catch (err) {
      // Only a local cache of what the ledger says (the bad file is set aside): start over, the
      // ledger fills it again.
      this.opts.onWarning(err)
    }
  }

  /** Our contributions from every receipt not seen yet; settles the offers they name. */
  collect(state: LedgerState): void {
    const { me, outbox } = this.opts
    let added = false
    for (const rec of state.rounds) {
      const receipt = rec.receipt
      if (!receipt || this.seen.has(rec.round)) continue
      this.seen.add(rec.round)
      for (const c of receipt.contributions) {
        if (c.contributor !== me) continue
        if (this.list.some((x) => x.round === rec.round && x.updateHash === c.updateHash)) continue
        const offeredAt = outbox.firstSentAt(rec.round, c.updateHash)
        const entry: ReceiptRecord = {
          ...c,
          round: rec.round,
          closedAt: receipt.closedAt,
          ...(receipt.deadline !== undefined ? { deadline: receipt.deadline } : {}),
          ...(offeredAt !== undefined ? { offeredAt } : {}),
        }
        this.list.push(entry)
        added = true
        this.opts.onReceipt({ ...entry })
      }
      outbox.settle(rec.round, receipt.contributions, me)
    }
    const files = this.opts.files
    if (added && files) void files.writeReceipts(this.list).catch(this.opts.onWarning)
  }
}
