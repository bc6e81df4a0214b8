import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TandemError } from '../../../core/api/errors.js'
import {
  decodeUpdateHeader,
  encodeUpdateHeader,
  updateBlocks,
  updateCoreName,
  UPDATE_CHUNK_BYTES,
} from '../../../core/ledger/updates.js'

const h = (c: string) => c.repeat(64)
const valid = {
  project: h('a'),
  round: 3,
  checkpointHash: h('b'),
  samples: 64,
  byteLength: 100,
  hash: h('c'),
  chunkCount: 1,
}

/** Runs `fn` and fails unless it returns or throws a TandemError with `code`. */
function onlyCoded(fn: () => unknown, code: string): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof TandemError, `native error: ${String(err)}`)
    assert.equal(err.code, code)
  }
}

describe('update header', () => {
  it('round-trips and names the core deterministically', () => {
    assert.deepEqual(decodeUpdateHeader(encodeUpdateHeader(valid)), { v: 1, ...valid })
    assert.equal(updateCoreName(Buffer.alloc(32, 0xab)), `updates/${h('ab').slice(0, 64)}`)
  })

  it('splits the encoded bytes into 1 MiB chunks behind the header', () => {
    const encoded = new Uint8Array(2 * UPDATE_CHUNK_BYTES + 5).fill(7)
    const { blocks } = updateBlocks({
      project: h('a'),
      round: 0,
      checkpointHash: h('b'),
      samples: 1,
      encoded,
    })
    assert.equal(blocks.length, 4)
    assert.deepEqual(
      blocks.slice(1).map((b) => b.length - 1),
      [UPDATE_CHUNK_BYTES, UPDATE_CHUNK_BYTES, 5],
    )
    assert.equal(decodeUpdateHeader(blocks[0]!).chunkCount, 3)
  })

  it('refuses to write a header a reader would refuse', () => {
    for (const bad of [
      { ...valid, chunkCount: 2 },
      { ...valid, project: 'zz' },
      { ...valid, round: -1 },
      { ...valid, byteLength: 2 ** 31 },
    ])
      assert.throws(() => encodeUpdateHeader(bad), { code: 'BAD_ARGUMENT' })
    assert.throws(
      () =>
        updateBlocks({
          project: h('a'),
          round: 0,
          checkpointHash: h('b'),
          samples: 1,
          encoded: new Uint8Array(1),
        }),
      { code: 'BAD_ARGUMENT' },
    )
  })

  it('decodes mutated headers to a valid header or UPDATE_INVALID only', () => {
    const good = encodeUpdateHeader(valid)
    const byteMutation = fc
      .array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .chain((edits) =>
        fc.nat(good.length).map((cut) => {
          const b = Buffer.from(good)
          for (const [i, v] of edits) b[i] = v
          return b.subarray(0, Math.max(cut, good.length - 3))
        }),
      )
    const fieldMutation = fc
      .tuple(
        fc.constantFrom(...Object.keys(valid), 'v', 'extra'),
        fc.oneof(
          fc.anything(),
          fc.integer(),
          fc.double(),
          fc.string(),
          fc.constant(null),
          fc.constant(undefined),
        ),
      )
      .map(([k, v]) =>
        Buffer.concat([Buffer.of(1), Buffer.from(JSON.stringify({ v: 1, ...valid, [k]: v }))]),
      )
    const arbitrary = fc.uint8Array({ maxLength: 300 })
    fc.assert(
      fc.property(fc.oneof(byteMutation, fieldMutation, arbitrary), (block) => {
        onlyCoded(() => {
          const header = decodeUpdateHeader(block)
          // Whatever decodes must be a header a writer could have produced.
          assert.deepEqual(decodeUpdateHeader(encodeUpdateHeader(header)), header)
        }, 'UPDATE_INVALID')
      }),
      { numRuns: 2000 },
    )
    assert.throws(() => decodeUpdateHeader(Buffer.alloc(5000, 1)), { code: 'UPDATE_INVALID' })
  })
})
