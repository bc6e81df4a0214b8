/**
 * A participant's files on disk: the receipts cache round-trips and a damaged one is set aside; a
 * saved residual is used only when it follows the last published update and fits the model.
 */
import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { isTandemError } from '../../../../core/api/errors.js'
import { ParticipantFiles } from '../../../../core/node/participant/files.js'
import type { ReceiptRecord } from '../../../../core/node/participant/types.js'
import { tempDir } from '../../../support/data.js'

const PROJECT = 'cd'.repeat(32)
const HASH = 'ab'.repeat(32)

function receipt(round: number): ReceiptRecord {
  return {
    contributor: 'aa'.repeat(32),
    updateCore: '11'.repeat(32),
    updateIndex: round * 2,
    updateHash: HASH,
    samples: 8,
    quality: 1,
    credits: 1,
    accepted: true,
    round,
    closedAt: 1000 + round,
  }
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err) => isTandemError(err) && err.code === code)
}

describe('participant files', () => {
  it('receipts: none is an empty list; what was written reads back', async (t) => {
    const files = new ParticipantFiles(await tempDir(t), PROJECT)
    assert.deepEqual(await files.readReceipts(), [])
    await files.writeReceipts([receipt(0), receipt(1)])
    assert.deepEqual(await files.readReceipts(), [receipt(0), receipt(1)])
  })

  it('receipts: a file that is not a list is STATE_CORRUPT and set aside; entries without a round are dropped', async (t) => {
    const dir = await tempDir(t)
    const files = new ParticipantFiles(dir, PROJECT)
    const path = join(dir, `receipts-${PROJECT}.json`)
    await writeFile(path, '{"round": 0}')
    await rejectsWith(files.readReceipts(), 'STATE_CORRUPT')
    assert.ok((await readdir(dir)).some((f) => f.startsWith(`receipts-${PROJECT}.json.corrupt-`)))
    assert.deepEqual(await files.readReceipts(), [], 'the bad file is out of the way')
    await writeFile(path, JSON.stringify([receipt(0), null, { round: 'x' }]))
    assert.deepEqual(await files.readReceipts(), [receipt(0)])
  })

  it('residual: none is null; one that follows the last update and fits the model is used', async (t) => {
    const files = new ParticipantFiles(await tempDir(t), PROJECT)
    assert.equal(await files.readResidual(3, HASH), null)
    await files.writeResidual(HASH, Float32Array.of(0.5, -1, 2))
    assert.deepEqual(await files.readResidual(3, HASH), Float32Array.of(0.5, -1, 2))
  })

  it('residual: another update or another model size is STATE_STALE (start from zero)', async (t) => {
    const files = new ParticipantFiles(await tempDir(t), PROJECT)
    await files.writeResidual(HASH, Float32Array.of(1, 2, 3))
    await rejectsWith(files.readResidual(4, HASH), 'STATE_STALE')
    await rejectsWith(files.readResidual(3, 'ef'.repeat(32)), 'STATE_STALE')
    await rejectsWith(files.readResidual(3, undefined), 'STATE_STALE')
  })

  it('discarding the residual keeps the receipts, and is fine when there is none', async (t) => {
    const dir = await tempDir(t)
    const files = new ParticipantFiles(dir, PROJECT)
    await files.discardResidual()
    await files.writeReceipts([receipt(0)])
    await files.writeResidual(HASH, Float32Array.of(1))
    await files.discardResidual()
    assert.deepEqual(await readdir(dir), [`receipts-${PROJECT}.json`])
    assert.equal(await files.readResidual(1, HASH), null)
  })
})
