/**
 * The robustness study: 20 honest updates (a true direction plus per-update noise as large as the
 * signal on every coordinate) and 5 attackers (25 %), int8-encoded as on the wire. The error of a
 * rule is ‖aggregate − honest mean‖ / ‖honest mean‖. The table is printed so a run shows the numbers.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { aggregate, type AggregationConfig } from '../../../core/aggregate/aggregate.js'
import { distance, gaussianSource, int8Bytes, norm } from './fixtures.js'

const D = 4000
const HONEST = 20
const ATTACKERS = 5

function honestRound(seed: number): Float32Array[] {
  const g = gaussianSource(seed)
  const truth = Float32Array.from({ length: D }, () => g())
  return Array.from({ length: HONEST }, () => truth.map((t) => t + g()))
}

function meanOf(rows: Float32Array[]): Float64Array {
  const m = new Float64Array(D)
  for (const r of rows)
    for (let j = 0; j < D; j++) m[j] = (m[j] as number) + (r[j] as number) / rows.length
  return m
}

function stdOf(rows: Float32Array[], mean: Float64Array): Float64Array {
  const s = new Float64Array(D)
  for (const r of rows)
    for (let j = 0; j < D; j++)
      s[j] = (s[j] as number) + ((r[j] as number) - (mean[j] as number)) ** 2
  return s.map((v) => Math.sqrt(v / (rows.length - 1)))
}

/** Each attack sees the honest updates (the strongest, omniscient attacker). */
const ATTACKS: Record<string, (honest: Float32Array[], k: number) => Float32Array> = {
  // "none": the five extra updates are repeats of honest ones.
  none: (h, k) => h[k] as Float32Array,
  'sign flip ×10': (h, k) => (h[k] as Float32Array).map((x) => -10 * x),
  'gaussian σ=30': (_h, k) => {
    const g = gaussianSource(1000 + k)
    return Float32Array.from({ length: D }, () => 30 * g())
  },
  // Baruch et al. 2019: z from the number of updates needed for a majority, mean − z·std.
  ALIE: (h) => {
    const n = HONEST + ATTACKERS
    const s = Math.floor(n / 2 + 1) - ATTACKERS
    const z = inverseNormal((n - s) / n)
    const mean = meanOf(h)
    const std = stdOf(h, mean)
    return Float32Array.from(mean, (m, j) => m - z * (std[j] as number))
  },
}

/** Acklam's rational approximation of Φ⁻¹, plenty for choosing z. */
function inverseNormal(p: number): number {
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ]
  const b = [
    -54.4760987982241, 161.585836858041, -155.698979859887, 66.8013829701089, -13.2806815528857,
  ]
  const q = p - 0.5
  const r = q * q
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  )
}

const RULES: AggregationConfig[] = [
  { rule: 'mean' },
  { rule: 'median' },
  { rule: 'trimmed-mean', trim: 0.25 },
  { rule: 'centered-clip' },
  { rule: 'multi-krum', f: ATTACKERS },
]

function study(seed: number): Record<string, Record<string, number>> {
  const honest = honestRound(seed)
  const target = meanOf(honest)
  const scale = norm(target)
  const out: Record<string, Record<string, number>> = {}
  for (const [attack, make] of Object.entries(ATTACKS)) {
    const attackers = Array.from({ length: ATTACKERS }, (_, k) => make(honest, k))
    // Attackers go first: position must not help the rules (ties go to lower indices).
    const round = [...attackers, ...honest].map((x) => ({ update: int8Bytes(x), weight: 1 }))
    out[attack] = Object.fromEntries(
      RULES.map((c) => [c.rule, distance(aggregate(round, c).aggregate, target) / scale]),
    )
  }
  return out
}

describe('robustness at 25 % attackers', () => {
  const results = study(3)
  const table = Object.entries(results)
    .map(
      ([attack, r]) =>
        `${attack.padEnd(14)} ${Object.entries(r)
          .map(([k, v]) => `${k} ${v.toFixed(3)}`)
          .join('  ')}`,
    )
    .join('\n')
  it('prints the relative error of each rule', (t) => {
    t.diagnostic(`relative error ‖agg − honest mean‖ / ‖honest mean‖\n${table}`)
    console.log(table)
  })

  it('without attackers, centered clipping stays near the honest mean (nearer than the median)', () => {
    const r = results.none!
    assert.ok(r['centered-clip']! < 0.1, `${r['centered-clip']}`)
    assert.ok(r['centered-clip']! < r.median!)
  })

  for (const attack of ['sign flip ×10', 'gaussian σ=30']) {
    it(`${attack}: centered clipping within 0.25 of the honest mean; the mean is off by more than 1`, () => {
      const r = results[attack]!
      assert.ok(r['centered-clip']! < 0.25, `centered-clip ${r['centered-clip']}`)
      assert.ok(r.mean! > 1, `mean ${r.mean}`)
    })
  }

  it('ALIE: centered clipping within 0.25 of the honest mean and no worse than the median', () => {
    // ALIE sits inside the honest spread by design: it shifts the mean only a little, and moves
    // the median most; clipping cannot reject it, only bound it.
    const r = results.ALIE!
    assert.ok(r['centered-clip']! < 0.25, `centered-clip ${r['centered-clip']}`)
    assert.ok(
      r['centered-clip']! <= r.median!,
      `centered-clip ${r['centered-clip']} median ${r.median}`,
    )
  })
})
