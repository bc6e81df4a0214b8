import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { aggregate, DEFAULT_AGGREGATION } from '../../../core/aggregate/aggregate.js'
import { centeredClip } from '../../../core/aggregate/centered-clip.js'
import { weightedMean } from '../../../core/aggregate/mean.js'
import { coordinateMedian } from '../../../core/aggregate/median.js'
import { multiKrum } from '../../../core/aggregate/multi-krum.js'
import { trimmedMean } from '../../../core/aggregate/trimmed-mean.js'
import { contributionWeight } from '../../../core/aggregate/weights.js'
import { assertClose, updates } from './fixtures.js'

describe('weighted mean', () => {
  it('matches hand-computed values and diagnostics', () => {
    const r = weightedMean(
      updates(
        [
          [1, 0, 4],
          [2, 10, 4],
          [3, 20, -2],
        ],
        [1, 1, 2],
      ),
    )
    assertClose(r.aggregate, [9 / 4, 50 / 4, 4 / 4])
    assert.equal(r.totalWeight, 4)
    assert.deepEqual(
      r.updates.map((u) => u.effectiveWeight),
      [0.25, 0.25, 0.5],
    )
  })

  it('reports norm, distance and cosine against the aggregate', () => {
    const r = weightedMean(
      updates(
        [
          [1, 0],
          [0, 1],
          [0, 0],
        ],
        [1, 1, 0],
      ),
    )
    assertClose(r.aggregate, [0.5, 0.5])
    const [a, , z] = r.updates
    assertClose([a!.norm, a!.distance, a!.cosine], [1, Math.SQRT1_2, Math.SQRT1_2])
    assert.equal(z!.effectiveWeight, 0)
    assert.equal(z!.selected, false)
    assert.equal(z!.cosine, 0, 'a zero vector has cosine 0')
  })
})

describe('coordinate-wise weighted median', () => {
  it('is the textbook median with equal weights (odd and even counts)', () => {
    assertClose(
      coordinateMedian(
        updates([
          [1, 5],
          [2, 1],
          [3, 3],
        ]),
      ).aggregate,
      [2, 3],
    )
    assertClose(
      coordinateMedian(
        updates([
          [1, 5],
          [2, 1],
          [3, 3],
          [4, 0],
        ]),
      ).aggregate,
      [2.5, 2],
    )
  })

  it('follows the weights, averaging across an exact half', () => {
    assertClose(coordinateMedian(updates([[1], [2], [10]], [1, 1, 3])).aggregate, [10])
    // weights 1, 1, 2: half the weight lies at or below the second value on every coordinate.
    const r = coordinateMedian(
      updates(
        [
          [1, 0, 4],
          [2, 10, 4],
          [3, 20, -2],
        ],
        [1, 1, 2],
      ),
    )
    assertClose(r.aggregate, [2.5, 15, 1])
  })

  it('credits the updates the median came from', () => {
    const r = coordinateMedian(
      updates([
        [1, 7],
        [2, 8],
        [3, 9],
      ]),
    )
    assert.deepEqual(
      r.updates.map((u) => u.effectiveWeight),
      [0, 1, 0],
    )
  })
})

describe('coordinate-wise weighted trimmed mean', () => {
  const five = [[1], [2], [3], [4], [100]]
  it('trims whole updates when β·n is an integer', () => {
    assertClose(trimmedMean(updates(five), { trim: 0.2 }).aggregate, [3])
  })

  it('trims a boundary update in part otherwise', () => {
    // β = 0.1 of 5: half an update off each end.
    assertClose(trimmedMean(updates(five), { trim: 0.1 }).aggregate, [59.5 / 4])
  })

  it('trims by weight', () => {
    // W = 6, 1.5 trimmed each end: keeps 0.5 of "1", all of "2" and "3", 0.5 of "4".
    const r = trimmedMean(updates(five, [2, 1, 1, 1, 1]), { trim: 0.25 })
    assertClose(r.aggregate, [7.5 / 3])
    assertClose(
      r.updates.map((u) => u.effectiveWeight),
      [0.5 / 3, 1 / 3, 1 / 3, 0.5 / 3, 0],
    )
  })

  it('is the mean at β = 0', () => {
    assertClose(trimmedMean(updates(five), { trim: 0 }).aggregate, [22])
  })
})

describe('centered clipping', () => {
  const three = updates([
    [3, 4],
    [0, 1],
    [0, -2],
  ])
  it('one iteration from a given start, τ = median distance', () => {
    // distances 5, 1, 2 → τ = 2; the first update is scaled by 2/5.
    const r = centeredClip(three, { start: new Float32Array(2), iterations: 1 })
    assertClose(r.aggregate, [(0.4 * 3) / 3, (0.4 * 4 + 1 - 2) / 3])
    assert.deepEqual(r.params.tau, [2])
    assert.deepEqual(
      r.updates.map((u) => u.clipped),
      [true, false, false],
    )
    assertClose(
      r.updates.map((u) => u.effectiveWeight),
      [0.4 / 3, 1 / 3, 1 / 3],
    )
  })

  it('two iterations', () => {
    const v = [0.4, 0.2]
    const rows = [
      [3, 4],
      [0, 1],
      [0, -2],
    ]
    const d = rows.map((x) => Math.hypot(x[0]! - v[0]!, x[1]! - v[1]!))
    const tau = [...d].sort((a, b) => a - b)[1]!
    const c = d.map((di) => (di > tau ? tau / di : 1))
    const next = v.map((vj, j) => vj + rows.reduce((s, x, i) => s + c[i]! * (x[j]! - vj), 0) / 3)
    const r = centeredClip(three, { start: new Float32Array(2), iterations: 2 })
    assertClose(r.aggregate, next)
    assertClose(r.params.tau as number[], [2, tau])
  })

  it('starts from the coordinate-wise median by default', () => {
    // median 1; distances 1, 0, 9 → τ = 1; 10 is scaled by 1/9 and pulls exactly as far as 0 pushes.
    const r = centeredClip(updates([[0], [1], [10]]), { iterations: 1 })
    assertClose(r.aggregate, [1])
    assert.deepEqual(
      r.updates.map((u) => u.clipped),
      [false, false, true],
    )
  })

  it('is the default rule', () => {
    assert.equal(DEFAULT_AGGREGATION.rule, 'centered-clip')
    assert.equal(aggregate(three).rule, 'centered-clip')
  })
})

describe('multi-Krum', () => {
  const four = updates([[0], [1], [2], [10]])
  it('scores by squared distances to the n − f − 2 nearest and averages the m best', () => {
    const r = multiKrum(four, { f: 1 })
    assert.deepEqual(
      r.updates.map((u) => u.score),
      [1, 1, 1, 64],
    )
    assert.deepEqual(
      r.updates.map((u) => u.selected),
      [true, true, true, false],
    )
    assertClose(r.aggregate, [1])
    assert.deepEqual(r.params, { f: 1, m: 3, neighbours: 1 })
  })

  it('breaks score ties by update index; f = 0 uses n − 2 neighbours', () => {
    assertClose(multiKrum(four, { f: 1, m: 1 }).aggregate, [0])
    const r = multiKrum(four, { f: 0, m: 1 })
    assert.deepEqual(
      r.updates.map((u) => u.score),
      [5, 2, 5, 145],
    )
    assertClose(r.aggregate, [1])
  })

  it('averages the selection by weight', () => {
    assertClose(multiKrum(updates([[0], [1], [2], [10]], [1, 1, 2, 1]), { f: 1 }).aggregate, [1.25])
  })
})

describe('weights', () => {
  it('are samples × reputation', () => {
    assert.equal(contributionWeight(256, 0.5), 128)
    assert.equal(contributionWeight(0, 0.9), 0)
  })
})
