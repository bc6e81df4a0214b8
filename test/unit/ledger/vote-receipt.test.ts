/**
 * Vote receipts (core/ledger/vote-receipt.ts), the voter's receipt book (core/node/
 * vote-receipt-book.ts) and `verify --receipts` input (core/cli/commands/vote-receipts-input.ts):
 * a receipt checks only under the host key and for exactly its vote; the book survives a reopen
 * and refuses a corrupt file; bad receipt files are BAD_ARGUMENT.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import crypto from 'hypercore-crypto'
import { isTandemError } from '../../../core/api/errors.js'
import { readVoteReceipts } from '../../../core/cli/commands/vote-receipts-input.js'
import { signVote, voteRef } from '../../../core/ledger/amendments.js'
import {
  receiptedVoteProblem,
  signVoteReceipt,
  voteReceiptFromWire,
  voteReceiptToWire,
  type ReceiptedVote,
} from '../../../core/ledger/vote-receipt.js'
import { VoteReceiptBook } from '../../../core/node/vote-receipt-book.js'

const project = Buffer.alloc(32, 1).toString('hex')
const host = crypto.keyPair()
const hostHex = host.publicKey.toString('hex')

function receipted(choice: 'yes' | 'no' = 'yes'): ReceiptedVote {
  const voter = crypto.keyPair()
  const vote = signVote(project, { proposal: 7, proposalHash: 'ab'.repeat(32), choice }, voter)
  const receipt = signVoteReceipt(
    {
      project,
      proposal: 7,
      voter: vote.voter,
      voteHash: voteRef(vote).toString('hex'),
      round: 3,
      at: 1_800_000_000_000,
    },
    host.secretKey,
  )
  return { receipt, vote }
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-receipts-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return isTandemError(err) ? err.code : String(err)
  }
  return 'no error'
}

describe('vote receipts', () => {
  it("check under the host's key and for exactly their vote", () => {
    const rv = receipted()
    assert.equal(receiptedVoteProblem(rv, project, hostHex), null)
    assert.match(receiptedVoteProblem(rv, project, rv.vote.voter)!, /not signed by the project/)
    const other = Buffer.alloc(32, 2).toString('hex')
    assert.match(receiptedVoteProblem(rv, other, hostHex)!, /another project/)
    // Each signed field matters: change one and the host's signature no longer covers it.
    for (const edit of [{ round: 4 }, { at: 1 }, { proposal: 8 }] as const)
      assert.match(
        receiptedVoteProblem({ ...rv, receipt: { ...rv.receipt, ...edit } }, project, hostHex)!,
        /not signed/,
      )
    const otherVote = receipted('no').vote
    assert.match(
      receiptedVoteProblem({ receipt: rv.receipt, vote: otherVote }, project, hostHex)!,
      /another proposal or voter/,
    )
    // The choice changed after the host receipted it: the voter's signature no longer covers it.
    const tampered = { ...rv, vote: { ...rv.vote, choice: 'no' as const } }
    assert.match(receiptedVoteProblem(tampered, project, hostHex)!, /not the voter's signature/)
    const resigned = { ...rv, vote: { ...rv.vote, signature: 'cd'.repeat(64) } }
    assert.match(receiptedVoteProblem(resigned, project, hostHex)!, /another vote/)
    assert.deepEqual(voteReceiptFromWire(voteReceiptToWire(rv.receipt)), rv.receipt)
  })

  it('are kept in an atomic book that reads back, once per vote', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'vote-receipts.json')
    const book = await VoteReceiptBook.open(path)
    const [x, y] = [receipted(), receipted('no')]
    await book.add(x)
    await book.add(x)
    await book.add(y)
    const again = await VoteReceiptBook.open(path)
    assert.deepEqual(again.list(project), [x, y])
    assert.deepEqual(again.list(Buffer.alloc(32, 3).toString('hex')), [])
    // The book's own file is what `verify --receipts` reads.
    assert.deepEqual(await readVoteReceipts(path), [x, y])
    await writeFile(path, '{"version":1,"receipts":[{"receipt":{}}]}')
    assert.equal(await code(VoteReceiptBook.open(path)), 'STATE_CORRUPT')
  })

  it('given to verify: one, a list, a book or a folder; anything else is BAD_ARGUMENT', async (t) => {
    const dir = await tempDir(t)
    const [x, y] = [receipted(), receipted()]
    await writeFile(join(dir, 'a.json'), JSON.stringify(x))
    await writeFile(join(dir, 'b.json'), JSON.stringify([y]))
    await writeFile(join(dir, 'notes.txt'), 'not read')
    assert.deepEqual(await readVoteReceipts(dir), [x, y])
    await writeFile(join(dir, 'c.json'), '{"receipt": 1}')
    assert.equal(await code(readVoteReceipts(dir)), 'BAD_ARGUMENT')
    await writeFile(join(dir, 'c.json'), 'not json')
    assert.equal(await code(readVoteReceipts(join(dir, 'c.json'))), 'BAD_ARGUMENT')
    assert.equal(await code(readVoteReceipts(join(dir, 'missing.json'))), 'BAD_ARGUMENT')
  })
})
