/**
 * The receipt inbox alone: only our contributions, each receipt read once, our send time beside the
 * host's arrival time, the offer settled, and the on-disk cache written and read back.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Contribution, Receipt } from '../../../../core/ledger/entries.js'
import type { LedgerState, RoundRecord } from '../../../../core/ledger/reader.js'
import { ParticipantFiles } from '../../../../core/node/participant/files.js'
import { Outbox } from '../../../../core/node/participant/outbox.js'
import { ReceiptInbox } from '../../../../core/node/participant/receipts.js'
import type { OfferRecord, ReceiptRecord } from '../../../../core/node/participant/types.js'
import { tempDir } from '../../../support/data.js'
import { waitUntil } from '../../../support/wait.js'
import { testContribution } from '../../../support/contributions.js'

const ME = 'aa'.repeat(32)
const OTHER = 'bb'.repeat(32)
const PROJECT = 'cd'.repeat(32)
const hashOf = (n: number) => Buffer.alloc(32, n)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function contribution(contributor: string, hash: string): Contribution {
  return testContribution({ contributor, hash, receivedAt: 1500, credits: 2 })
}

function round(r: number, contributions?: Contribution[]): RoundRecord {
  const receipt: Receipt | undefined = contributions && {
    v: 1,
    round: r,
    closedAt: 2000 + r,
    deadline: 1800 + r,
    checkpointIn: '00'.repeat(32),
    checkpointOut: '01'.repeat(32),
    rule: 'mean',
    contributions,
  }
  return { round: r, checkpoint: {} as RoundRecord['checkpoint'], ...(receipt ? { receipt } : {}) }
}

const ledger = (rounds: RoundRecord[]) => ({ rounds }) as unknown as LedgerState

function rig(files: ParticipantFiles | null = null) {
  const received: ReceiptRecord[] = []
  const offers: OfferRecord[] = []
  const warnings: unknown[] = []
  const outbox = new Outbox({
    link: { ready: () => true, connected: () => true, send: () => {} },
    now: () => 1234,
    retryMs: 5000,
    closed: () => false,
    setState: () => {},
    onOffer: (o) => offers.push(o),
    onWarning: (err) => warnings.push(err),
  })
  const inbox = new ReceiptInbox({
    me: ME,
    files,
    outbox,
    onReceipt: (r) => received.push(r),
    onWarning: (err) => warnings.push(err),
  })
  return { outbox, inbox, received, offers, warnings }
}

describe('participant receipt inbox', () => {
  it('keeps only our contributions, with the receipt’s times and our first send time, once', () => {
    const { outbox, inbox, received, offers } = rig()
    const ours = hex(hashOf(1))
    outbox.add(0, ours, {
      project: Buffer.from(PROJECT, 'hex'),
      round: 0,
      core: Buffer.alloc(32),
      start: 0,
      length: 2,
      byteLength: 10,
      hash: hashOf(1),
      samples: 8,
    })
    const state = ledger([
      round(0, [contribution(OTHER, hex(hashOf(2))), contribution(ME, ours)]),
      round(1, [contribution(OTHER, hex(hashOf(3)))]),
      round(2),
    ])
    inbox.collect(state)
    inbox.collect(state)
    assert.deepEqual(received, [
      { ...contribution(ME, ours), round: 0, closedAt: 2000, deadline: 1800, offeredAt: 1234 },
    ])
    assert.deepEqual(inbox.all(), received)
    assert.equal(outbox.get(0)?.status, 'accepted')
    assert.equal(offers.filter((o) => o.status === 'accepted').length, 1, 'settled once')
  })

  it('a contribution made in an earlier run has no send time of ours', () => {
    const { inbox } = rig()
    inbox.collect(ledger([round(0, [contribution(ME, hex(hashOf(1)))])]))
    assert.equal(inbox.all()[0]?.offeredAt, undefined)
  })

  it('writes the cache; a restart reads it back and does not add the same receipt twice', async (t) => {
    const dir = await tempDir(t)
    const first = rig(new ParticipantFiles(dir, PROJECT))
    const state = ledger([round(0, [contribution(ME, hex(hashOf(1)))])])
    first.inbox.collect(state)
    // The cache is written in the background (atomically: once it exists it is whole).
    await waitUntil(() => existsSync(join(dir, `receipts-${PROJECT}.json`)), 'the cache written')
    const files = new ParticipantFiles(dir, PROJECT)

    const again = rig(files)
    await again.inbox.load()
    assert.deepEqual(again.inbox.all(), first.inbox.all())
    again.inbox.collect(state)
    assert.equal(again.inbox.all().length, 1)
    assert.deepEqual(again.received, [], 'nothing new')
  })

  it('a damaged cache is a warning and an empty start (the ledger fills it again)', async (t) => {
    const dir = await tempDir(t)
    await writeFile(join(dir, `receipts-${PROJECT}.json`), 'not json')
    const { inbox, warnings } = rig(new ParticipantFiles(dir, PROJECT))
    await inbox.load()
    assert.deepEqual(inbox.all(), [])
    assert.equal((warnings[0] as { code?: string }).code, 'STATE_CORRUPT')
  })
})
