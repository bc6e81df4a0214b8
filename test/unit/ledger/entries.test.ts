import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isTandemError } from '../../../core/api/errors.js'
import {
  CHUNK_BYTES,
  checkpointBlocks,
  decodeEntry,
  encodeReceipt,
  outerStateBlocks,
  encodeRoundOpen,
  type Receipt,
} from '../../../core/ledger/entries.js'

const h = (c: string) => c.repeat(64)
export const sampleReceipt: Omit<Receipt, 'v'> = {
  round: 3,
  closedAt: 1_700_000_000_000,
  checkpointIn: h('a'),
  checkpointOut: h('b'),
  rule: 'centered-clip',
  contributions: [
    {
      contributor: h('c'),
      updateCore: h('d'),
      updateIndex: 4,
      updateHash: h('e'),
      samples: 512,
      score: { lossBefore: 2.5, lossAfter: 2.4, cosine: 0.8, normRatio: 1.1 },
      quality: 0.7,
      credits: 1.5,
      accepted: true,
    },
    {
      contributor: h('f'),
      updateCore: h('0'),
      updateIndex: 0,
      updateHash: h('1'),
      samples: 512,
      quality: 0,
      credits: 0,
      accepted: false,
      reason: 'non-finite',
    },
  ],
}
const open = {
  round: 3,
  openedAt: 1000,
  deadline: 61_000,
  checkpointHash: h('a'),
  assignmentSeed: h('9'),
}

describe('ledger entries', () => {
  it('round-trips round-open and receipt entries', () => {
    assert.deepEqual(decodeEntry(encodeRoundOpen(open), 1), {
      kind: 'round-open',
      value: { v: 1, ...open },
    })
    assert.deepEqual(decodeEntry(encodeReceipt(sampleReceipt), 2), {
      kind: 'receipt',
      value: { v: 1, ...sampleReceipt },
    })
  })

  it('reads a newer writer’s entries: unknown fields are dropped, the rest is checked', () => {
    const newer = {
      v: 1,
      ...sampleReceipt,
      signedBy: 'a field from a later version',
      contributions: sampleReceipt.contributions.map((c) => ({ ...c, region: 'eu' })),
    }
    const block = Buffer.concat([Buffer.of(4), Buffer.from(JSON.stringify(newer))])
    assert.deepEqual(decodeEntry(block, 2), { kind: 'receipt', value: { v: 1, ...sampleReceipt } })
    // Known fields are still checked as before.
    const bad = { ...newer, closedAt: -1 }
    const badBlock = Buffer.concat([Buffer.of(4), Buffer.from(JSON.stringify(bad))])
    assert.throws(() => decodeEntry(badBlock, 2), { code: 'LEDGER_CORRUPT' })
  })

  it('splits a checkpoint into a header and CHUNK_BYTES chunks', () => {
    const file = new Uint8Array(CHUNK_BYTES * 2 + 5).map((_, i) => i & 0xff)
    const [header, ...chunks] = checkpointBlocks(1, file, h('7'))
    assert.equal(chunks.length, 3)
    const e = decodeEntry(header!, 1)
    assert.equal(e.kind === 'checkpoint' && e.value.chunkCount, 3)
    const back = Buffer.concat(
      chunks.map((c, i) => {
        const d = decodeEntry(c, i + 2)
        return d.kind === 'chunk' ? d.bytes : Buffer.alloc(0)
      }),
    )
    assert.ok(back.equals(Buffer.from(file)))
  })

  it('frames an outer-state like a checkpoint, under its own kind', () => {
    const file = new Uint8Array(CHUNK_BYTES + 3).map((_, i) => (i * 7) & 0xff)
    const [header, ...chunks] = outerStateBlocks(2, file, h('8'))
    assert.equal(header![0], 5)
    assert.deepEqual(decodeEntry(header!, 1), {
      kind: 'outer-state',
      value: { v: 1, round: 2, contentHash: h('8'), byteLength: file.byteLength, chunkCount: 2 },
    })
    assert.equal(chunks.length, 2)
    assert.ok(chunks.every((c, i) => decodeEntry(c, i + 2).kind === 'chunk'))
  })

  it('refuses to write what a reader would refuse', () => {
    const bad = {
      ...sampleReceipt,
      contributions: [{ ...sampleReceipt.contributions[1]!, credits: 3 }],
    }
    assert.throws(() => encodeReceipt(bad), { code: 'BAD_ARGUMENT' })
    assert.throws(() => encodeRoundOpen({ ...open, deadline: 0 }), { code: 'BAD_ARGUMENT' })
  })

  it('rejects malformed entries with LEDGER_CORRUPT only', () => {
    assert.throws(() => decodeEntry(Buffer.of(9, 1), 5), { code: 'LEDGER_CORRUPT' })
    assert.throws(() => decodeEntry(Buffer.alloc(0), 5), { code: 'LEDGER_CORRUPT' })
    const valid = [encodeReceipt(sampleReceipt), encodeRoundOpen(open)]
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.option(fc.nat(), { nil: undefined }),
        (block, flips, cut) => {
          const m = Buffer.from(block)
          for (const [at, v] of flips) m[at % m.length] = v
          const input = cut === undefined ? m : m.subarray(0, cut % m.length)
          try {
            decodeEntry(input, 1)
          } catch (err) {
            assert.ok(isTandemError(err) && err.code === 'LEDGER_CORRUPT', String(err))
          }
        },
      ),
      { numRuns: 400 },
    )
  })
})
