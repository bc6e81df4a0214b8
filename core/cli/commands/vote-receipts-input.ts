/**
 * Reads the vote receipts given to `tandem verify --receipts <file|dir>`: a node's
 * `vote-receipts.json`, one receipted vote, or an array of them per file; a directory is every
 * `*.json` file in it. Malformed input is BAD_ARGUMENT naming the file; whether a receipt is really
 * the host's is the verifier's question (core/ledger/vote-audit.ts), not this file's.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { TandemError } from '../../api/errors.js'
import { ReceiptedVote } from '../../ledger/vote-receipt.js'
import { VoteReceiptsFile } from '../../node/vote-receipt-book.js'

const ReceiptInput = z.union([
  VoteReceiptsFile.transform((f) => f.receipts),
  ReceiptedVote.transform((r) => [r]),
  z.array(ReceiptedVote).max(100_000),
])

/** The most files a directory may give (a verifier is not a crawler). */
const MAX_FILES = 10_000

async function readOne(path: string): Promise<ReceiptedVote[]> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new TandemError('BAD_ARGUMENT', `${path}: not a JSON file (${(err as Error).message})`)
  }
  const parsed = ReceiptInput.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TandemError(
      'BAD_ARGUMENT',
      `${path}: not vote receipts (at ${issue?.path.join('.') || '(root)'}: ${issue?.message})`,
    )
  }
  return parsed.data
}

export async function readVoteReceipts(path: string): Promise<ReceiptedVote[]> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw new TandemError('BAD_ARGUMENT', `cannot read ${path}: ${(err as Error).message}`)
  }
  if (!info.isDirectory()) return readOne(path)
  const files = (await readdir(path)).filter((f) => f.endsWith('.json')).sort()
  if (files.length > MAX_FILES)
    throw new TandemError('BAD_ARGUMENT', `${path} holds more than ${MAX_FILES} receipt files`)
  const out: ReceiptedVote[] = []
  for (const f of files) out.push(...(await readOne(join(path, f))))
  return out
}
