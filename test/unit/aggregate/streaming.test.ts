import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { aggregate, type AggregationConfig } from '../../../core/aggregate/aggregate.js'
import { UpdateSet } from '../../../core/aggregate/chunked-updates.js'
import type { WeightedUpdate } from '../../../core/aggregate/types.js'
import { decode } from '../../../core/engine/compress/codec.js'
import { densify } from '../../../core/engine/compress/quantize.js'
import { assertClose, bytesOf, gaussianSource, int8Bytes, topkBytes } from './fixtures.js'

const RULES: AggregationConfig[] = [
  { rule: 'mean' },
  { rule: 'median' },
  { rule: 'trimmed-mean', trim: 0.2 },
  { rule: 'centered-clip' },
  { rule: 'multi-krum', f: 2 },
]

/** A mix of the three encodings, with an outlier, n not a multiple of the block or the chunk. */
function mixedRound(n = 5003, count = 9): WeightedUpdate[] {
  const g = gaussianSource(11)
  return Array.from({ length: count }, (_, i) => {
    const x = Float32Array.from({ length: n }, () => g() * (i === count - 1 ? 20 : 1))
    const update = i % 3 === 0 ? int8Bytes(x, 256) : i % 3 === 1 ? topkBytes(x, 0.3) : x
    return { update, weight: 1 + (i % 4) }
  })
}

const fingerprint = (r: ReturnType<typeof aggregate>) =>
  JSON.stringify({ a: bytesOf(r.aggregate).toString('base64'), u: r.updates, p: r.params })

describe('streaming', () => {
  const round = mixedRound()
  for (const config of RULES) {
    it(`${config.rule}: every chunk size gives the same bits as one pass`, () => {
      const whole = fingerprint(aggregate(round, config, { chunkSize: 5003 }))
      for (const chunkSize of [1, 37, 256, 1000, 4096])
        assert.equal(fingerprint(aggregate(round, config, { chunkSize })), whole, `${chunkSize}`)
      assert.equal(fingerprint(aggregate(round, config)), whole, 'default chunk size')
    })
  }

  it('decodes chunks exactly as densify does, for each encoding', () => {
    const set = UpdateSet.from(round)
    round.forEach((u, i) => {
      const dense = u.update instanceof Float32Array ? u.update : densify(decode(u.update))
      const out = new Float32Array(700)
      for (const start of [0, 700, 4303]) {
        set.decodeInto(i, start, out)
        assert.deepEqual(out, dense.subarray(start, start + 700))
      }
    })
  })

  it('the mean equals a dense float64 reference', () => {
    const dense = round.map((u) =>
      u.update instanceof Float32Array ? u.update : densify(decode(u.update)),
    )
    const W = round.reduce((s, u) => s + u.weight, 0)
    const ref = Array.from(
      { length: 5003 },
      (_, j) => round.reduce((s, u, i) => s + u.weight * (dense[i]![j] as number), 0) / W,
    )
    assertClose(aggregate(round, { rule: 'mean' }).aggregate, ref, 1e-6)
  })
})

describe('determinism and weights', () => {
  const round = mixedRound(1200, 7)
  for (const config of RULES) {
    it(`${config.rule}: same inputs give bit-identical results; a zero weight is inert`, () => {
      assert.equal(fingerprint(aggregate(round, config)), fingerprint(aggregate(round, config)))
      const withInert = [...round, { update: new Float32Array(1200).fill(1e6), weight: 0 }]
      const r = aggregate(withInert, config)
      assert.deepEqual(r.aggregate, aggregate(round, config).aggregate)
      const inert = r.updates.at(-1)!
      assert.equal(inert.effectiveWeight, 0)
      assert.equal(inert.selected, false)
    })
  }

  it('mean, median and trimmed mean: weight 2 equals two copies of weight 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 7,
        }),
        fc.nat(),
        (rows, pick) => {
          const k = pick % rows.length
          const heavy = rows.map((r, i) => ({
            update: Float32Array.from(r),
            weight: i === k ? 2 : 1,
          }))
          const copies = [...heavy.map((u) => ({ ...u, weight: 1 })), heavy[k]!]
          copies[copies.length - 1] = { update: heavy[k]!.update, weight: 1 }
          for (const config of RULES.slice(0, 3)) {
            const a = aggregate(heavy, config).aggregate
            const b = aggregate(copies, config).aggregate
            for (let j = 0; j < 3; j++)
              if (Math.abs((a[j] as number) - (b[j] as number)) > 1e-4) return false
          }
          return true
        },
      ),
      { numRuns: 150 },
    )
  })

  it('effective weights sum to at most 1', () => {
    for (const config of RULES) {
      const s = aggregate(round, config).updates.reduce((t, u) => t + u.effectiveWeight, 0)
      assert.ok(s <= 1 + 1e-9 && s > 0, `${config.rule}: ${s}`)
    }
  })
})
