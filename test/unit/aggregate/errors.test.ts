import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  AggregationError,
  aggregate,
  contributionWeight,
  type AggregationConfig,
} from '../../../core/aggregate/aggregate.js'
import { TandemError } from '../../../core/api/errors.js'
import { f32Bytes, int8Bytes, updates } from './fixtures.js'

function throwsCode(fn: () => unknown, code: string, updateIndex?: number) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TandemError, `not a TandemError: ${String(err)}`)
    assert.equal(err.code, code)
    if (updateIndex !== undefined) assert.equal((err as AggregationError).updateIndex, updateIndex)
    return true
  })
}

const good = updates([
  [1, 2],
  [3, 4],
  [5, 6],
])

describe('bad input is a coded error', () => {
  it('no updates', () => {
    throwsCode(() => aggregate([]), 'AGGREGATE_NO_UPDATES')
    throwsCode(() => aggregate(null as never), 'AGGREGATE_NO_UPDATES')
  })

  it('mismatched lengths name the update', () => {
    throwsCode(() => aggregate([...good, ...updates([[1, 2, 3]])]), 'AGGREGATE_LENGTH_MISMATCH', 3)
    throwsCode(
      () => aggregate(good, undefined, { expectedLength: 3 }),
      'AGGREGATE_LENGTH_MISMATCH',
      0,
    )
    throwsCode(
      () => aggregate(good, { rule: 'centered-clip', start: new Float32Array(3) }),
      'AGGREGATE_LENGTH_MISMATCH',
    )
  })

  it('negative, NaN, infinite, missing or all-zero weights', () => {
    for (const w of [-1, NaN, Infinity, undefined, '1'])
      throwsCode(
        () => aggregate([good[0]!, { update: good[1]!.update, weight: w as never }]),
        'AGGREGATE_BAD_WEIGHT',
        1,
      )
    throwsCode(() => aggregate(updates([[1], [2]], [0, 0])), 'AGGREGATE_BAD_WEIGHT')
    throwsCode(() => contributionWeight(-5, 1), 'AGGREGATE_BAD_WEIGHT')
    throwsCode(() => contributionWeight(5, NaN), 'AGGREGATE_BAD_WEIGHT')
  })

  it('corrupt bytes, non-finite floats, wrong types', () => {
    const bytes = f32Bytes([1, 2])
    const cases: unknown[] = [
      bytes.subarray(0, 10), // truncated header
      Uint8Array.from([...bytes].map((b, i) => (i === 0 ? 0 : b))), // bad magic
      Uint8Array.from([...bytes, 0]), // trailing byte
      Float32Array.of(1, NaN),
      new Float32Array(0),
      'not bytes',
      [1, 2],
    ]
    for (const update of cases)
      throwsCode(
        () => aggregate([good[0]!, { update: update as never, weight: 1 }]),
        'AGGREGATE_CORRUPT_UPDATE',
        1,
      )
    // A finite int8 scale so large that 127 × scale overflows float32.
    const q = int8Bytes(Float32Array.of(1, -1))
    new DataView(q.buffer).setFloat32(16, 3e38, true)
    throwsCode(() => aggregate([{ update: q, weight: 1 }]), 'AGGREGATE_CORRUPT_UPDATE', 0)
  })

  it('bad rule parameters', () => {
    const configs = [
      { rule: 'nope' },
      null,
      { rule: 'trimmed-mean', trim: 0.5 },
      { rule: 'trimmed-mean', trim: -0.1 },
      { rule: 'centered-clip', iterations: 0 },
      { rule: 'centered-clip', iterations: 1.5 },
      { rule: 'centered-clip', tauScale: 0 },
      { rule: 'centered-clip', start: Float32Array.of(1, NaN) },
      { rule: 'multi-krum', f: 3 },
      { rule: 'multi-krum', m: 0 },
      { rule: 'multi-krum', m: 4 },
    ]
    for (const config of configs)
      throwsCode(() => aggregate(good, config as AggregationConfig), 'AGGREGATE_BAD_CONFIG')
    throwsCode(() => aggregate(good, undefined, { chunkSize: 0 }), 'AGGREGATE_BAD_CONFIG')
  })

  it('random and mutated bytes never escape as native exceptions', () => {
    const valid = [f32Bytes([1, 2, 3]), int8Bytes(Float32Array.of(1, -2, 3))]
    const mutated = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
      )
      .map(([b, edits]) => {
        const c = Uint8Array.from(b)
        for (const [at, v] of edits) c[at % c.length] = v
        return c
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
        try {
          const r = aggregate([
            { update: f32Bytes([0, 0, 0]), weight: 1 },
            { update: bytes, weight: 1 },
          ])
          return r.aggregate.every(Number.isFinite)
        } catch (err) {
          return err instanceof AggregationError && err.code.startsWith('AGGREGATE_')
        }
      }),
      { numRuns: 2000 },
    )
  })
})
