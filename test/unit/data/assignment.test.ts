import fc from 'fast-check'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { assignShards, isValidAssignment } from '../../../core/data/assignment.js'

const key = (s: string) => createHash('sha256').update(s).digest()
const base = {
  projectKey: key('project'),
  contributorKey: key('alice'),
  round: 3,
  shardCount: 100,
  count: 10,
}

describe('shard assignment', () => {
  it('is a pure function of its inputs', () => {
    assert.deepEqual(assignShards(base), assignShards({ ...base }))
    assert.equal(new Set(assignShards(base)).size, 10)
  })

  it('differs across contributors, rounds and projects', () => {
    const a = assignShards(base)
    assert.notDeepEqual(a, assignShards({ ...base, contributorKey: key('bob') }))
    assert.notDeepEqual(a, assignShards({ ...base, round: 4 }))
    assert.notDeepEqual(a, assignShards({ ...base, projectKey: key('other') }))
  })

  it('a larger count extends the same ranking', () => {
    assert.deepEqual(assignShards({ ...base, count: 20 }).slice(0, 10), assignShards(base))
    assert.equal(assignShards({ ...base, count: 500 }).length, 100)
  })

  it('the host accepts the true assignment in any order and nothing else', () => {
    const a = assignShards(base)
    assert.ok(isValidAssignment(base, [...a].reverse()))
    assert.ok(!isValidAssignment(base, [...a.slice(1), (a[0]! + 1) % 100]))
    assert.ok(!isValidAssignment(base, a.slice(1)))
  })

  it('pins the v1 function (docs/dataset-format.md) with fixed vectors', () => {
    // Computed once from the spec by an independent implementation (Python hashlib, not this
    // code), so a change to the domain string, field order or byte order fails here. Rounds 1,
    // 258 and 0x01020304 differ when `round` is encoded little-endian: they pin big-endian.
    const zero = Buffer.alloc(32)
    const one = Buffer.alloc(32, 1)
    const vectors: Array<[number, number[]]> = [
      [0, [6, 3, 11, 5, 0]],
      [1, [7, 2, 11, 8, 9]],
      [258, [0, 7, 5, 9, 12]],
      [0x01020304, [12, 1, 3, 10, 0]],
    ]
    for (const [round, expected] of vectors) {
      const got = assignShards({
        projectKey: zero,
        contributorKey: one,
        round,
        shardCount: 16,
        count: 5,
      })
      assert.deepEqual(got, expected, `round ${round}`)
    }
    assert.deepEqual(assignShards({ ...base, round: 7, count: 8 }), [85, 32, 99, 98, 31, 61, 5, 95])
  })

  it('always returns distinct in-range shards (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(1000),
        fc.nat(300),
        fc.nat(400),
        (contributor, round, shardCount, count) => {
          const out = assignShards({
            ...base,
            contributorKey: contributor,
            round,
            shardCount,
            count,
          })
          assert.equal(out.length, Math.min(count, shardCount))
          assert.equal(new Set(out).size, out.length)
          assert.ok(out.every((s) => Number.isInteger(s) && s >= 0 && s < shardCount))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('rejects malformed keys and rounds with BAD_ARGUMENT', () => {
    assert.throws(() => assignShards({ ...base, projectKey: Buffer.alloc(5) }), {
      code: 'BAD_ARGUMENT',
    })
    assert.throws(() => assignShards({ ...base, round: -1 }), { code: 'BAD_ARGUMENT' })
  })
})
