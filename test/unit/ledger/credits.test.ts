import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DEFAULT_CREDIT_POLICY,
  creditsFor,
  racAt,
  updateRac,
  updateReputation,
} from '../../../core/ledger/credits.js'

const DAY = 86_400_000
const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`)

describe('credits', () => {
  it('are FLOPs per sample × samples assigned × quality, in GFLOP', () => {
    // MLP 784-256-10: 1,219,584 FLOPs per sample; 12,800 samples at quality 0.5 → 7.805338 GFLOP
    assert.equal(creditsFor(1_219_584, 12_800, 0.5, DEFAULT_CREDIT_POLICY), 7.805338)
    assert.equal(creditsFor(1_219_584, 12_800, 1.7, DEFAULT_CREDIT_POLICY), 15.610675)
  })

  it('are zero below the quality floor, for no samples, or for a non-finite quality', () => {
    const policy = { ...DEFAULT_CREDIT_POLICY, qualityFloor: 0.2 }
    assert.equal(creditsFor(1e6, 100, 0.1, policy), 0)
    assert.equal(creditsFor(1e6, 0, 1, policy), 0)
    assert.equal(creditsFor(1e6, 100, NaN, policy), 0)
  })
})

describe('recent average credit (BOINC, 7-day half-life)', () => {
  it('halves after one half-life without new credit', () => {
    const rac = updateRac(null, 100, 0, 7)
    close(racAt(rac, 7 * DAY, 7), rac.value / 2)
  })

  it('converges to the daily credit rate under steady work', () => {
    let rac = updateRac(null, 50, 0, 7)
    for (let day = 1; day <= 120; day++) rac = updateRac(rac, 50, day * DAY, 7)
    close(rac.value, 50, 1e-3)
  })

  it('follows the update rule by hand for one day', () => {
    // weight = 2^(-1/7); value = 10·weight + (1 - weight)·20 credits / 1 day
    const weight = Math.pow(2, -1 / 7)
    const next = updateRac({ value: 10, at: 0 }, 20, DAY, 7)
    close(next.value, 10 * weight + (1 - weight) * 20)
  })
})

describe('reputation', () => {
  it('is an exponential moving average of quality, clamped to [0, 1]', () => {
    close(updateReputation(undefined, 1, DEFAULT_CREDIT_POLICY), 0.8 * 0.5 + 0.2)
    close(updateReputation(0.9, 0, DEFAULT_CREDIT_POLICY), 0.72)
    close(updateReputation(0.5, 5, DEFAULT_CREDIT_POLICY), 0.6)
    close(updateReputation(0.5, NaN, DEFAULT_CREDIT_POLICY), 0.4)
  })
})
