/**
 * The vote receipts this node holds (docs/governance.md, "Vote receipts"): each vote the node cast
 * with the host's signed receipt for it, kept in `<data dir>/vote-receipts.json` (written
 * atomically on every change, checked with zod on read). The file is the voter's evidence: `tandem
 * verify --receipts <file>` reads it as it is, and the node audits it against each ledger when a
 * proposal's vote closes (vote-receipt-watch.ts).
 */
import { z } from 'zod'
import { ReceiptedVote } from '../ledger/vote-receipt.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'

export const VoteReceiptsFile = z
  .object({ version: z.literal(1), receipts: z.array(ReceiptedVote).max(100_000) })
  .strict()
export type VoteReceiptsFile = z.infer<typeof VoteReceiptsFile>

export class VoteReceiptBook {
  private constructor(
    private readonly path: string,
    private readonly receipts: ReceiptedVote[],
  ) {}

  /** Loads the book (empty when there is no file; STATE_CORRUPT, file moved aside, when bad). */
  static async open(path: string): Promise<VoteReceiptBook> {
    const file = await readJsonFile(path, VoteReceiptsFile)
    return new VoteReceiptBook(path, file?.receipts ?? [])
  }

  /** Keeps a receipt (once per vote hash) and writes the file before resolving. */
  async add(rv: ReceiptedVote): Promise<void> {
    if (this.receipts.some((x) => x.receipt.voteHash === rv.receipt.voteHash)) return
    this.receipts.push(rv)
    const file: VoteReceiptsFile = { version: 1, receipts: this.receipts }
    await writeJsonAtomic(this.path, file)
  }

  /** The receipts of one project (all without `project`). */
  list(project?: string): ReceiptedVote[] {
    return this.receipts.filter((x) => project === undefined || x.receipt.project === project)
  }
}
