import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  closeFetchWave,
  collectingVerdict,
  missingBytes,
  settlePass,
  type OfferState,
} from '../../../core/host/settle.js'

const hex = (c: string) => c.repeat(64)
const round = { deadline: 100, seenBefore: new Set<string>() }
const BYTES = new Uint8Array([1])

/** An offer as the host holds it; `verdict` is what the intake decided when it arrived. */
function offer(i: number, who: string, hash: string, over: Partial<OfferState> = {}): OfferState {
  return {
    t: 'offer',
    round: 0,
    contributor: hex(who),
    core: hex('d'),
    start: 2 * i,
    length: 2,
    byteLength: 1,
    hash: hex(hash),
    samples: 32,
    receivedAt: 50,
    signatureValid: true,
    verdict: null,
    encoded: null,
    fetchError: null,
    lateFetchError: null,
    ...over,
  }
}

describe('settle (close-time verdicts)', () => {
  it('judges a new offer among the earlier ones whose download has not failed', () => {
    const first = offer(0, '1', 'a')
    assert.equal(collectingVerdict([first], offer(1, '2', 'a'), 1, round), 'duplicate')
    assert.equal(collectingVerdict([first], offer(1, '1', 'b'), 1, round), 'duplicate')
    first.fetchError = 'UPDATE_UNAVAILABLE'
    assert.equal(collectingVerdict([first], offer(1, '2', 'a'), 1, round), null)
    assert.equal(collectingVerdict([first], offer(1, '1', 'b'), 1, round), null)
    // Only the offers before `index` count.
    assert.equal(collectingVerdict([offer(0, '1', 'a')], offer(0, '2', 'a'), 0, round), null)
  })

  it('decides again what depended on a failed download, and asks for those bytes', () => {
    const entries = [
      offer(0, '1', 'a', { fetchError: 'UPDATE_UNAVAILABLE' }), // the original never arrived
      offer(1, '2', 'a', { verdict: 'duplicate' }), // recorded as its copy at intake
      offer(2, '1', 'b', { verdict: 'duplicate' }), // recorded as its contributor's second update
      offer(3, '3', 'c', { encoded: BYTES }),
    ]
    const kept = settlePass(entries, round)
    assert.deepEqual(
      kept.map((k) => [k.entry.start, k.verdict]),
      [
        [2, null],
        [4, null],
        [6, null],
      ],
      'the failed offer leaves the receipt; the ones that depended on it now stand',
    )
    assert.deepEqual(
      missingBytes(kept).map((e) => e.start),
      [2, 4],
    )
  })

  it('leaves out an offer whose bytes decide but whose close-time download failed', () => {
    const entries = [
      offer(0, '1', 'a', { lateFetchError: 'UPDATE_UNAVAILABLE' }),
      offer(1, '2', 'a', { verdict: 'duplicate', encoded: BYTES }),
    ]
    const kept = settlePass(entries, round)
    assert.deepEqual(
      kept.map((k) => [k.entry.contributor, k.verdict]),
      [[hex('2'), null]],
      'its copy, which did arrive, takes its place',
    )
    assert.deepEqual(missingBytes(kept), [])
    // Still listed when its verdict needs no bytes (a late offer is recorded as late).
    const late = offer(0, '1', 'a', { receivedAt: 101, lateFetchError: 'UPDATE_UNAVAILABLE' })
    assert.deepEqual(
      settlePass([late], round).map((k) => k.verdict),
      ['late'],
    )
  })

  it('re-decides a verdict made stale by a deadline extension', () => {
    const e = offer(0, '1', 'a', { receivedAt: 150, verdict: 'late' })
    assert.deepEqual(
      settlePass([e], round).map((k) => k.verdict),
      ['late'],
    )
    assert.deepEqual(
      settlePass([e], { ...round, deadline: 200 }).map((k) => k.verdict),
      [null],
    )
  })

  it('fetches, in one wave, what is needed and the later duplicates that would need it next', () => {
    const entries = [
      offer(0, '9', 'z', { verdict: 'duplicate' }), // before the first needed one: not included
      offer(1, '1', 'a'), // needed
      offer(2, '2', 'a', { verdict: 'duplicate' }), // a copy of its hash
      offer(3, '1', 'b', { verdict: 'duplicate' }), // its contributor's second update
      offer(4, '3', 'a', { verdict: 'duplicate', encoded: BYTES }), // already here
      offer(5, '4', 'a', { verdict: 'duplicate', fetchError: 'UPDATE_MISMATCH' }), // failed
      offer(6, '5', 'a', { verdict: 'duplicate', lateFetchError: 'UPDATE_UNAVAILABLE' }), // tried
      offer(7, '6', 'c', { verdict: 'duplicate' }), // unrelated
      offer(8, '7', 'a', { verdict: 'late' }), // not a duplicate
    ]
    const wave = closeFetchWave(entries, [entries[1]!])
    assert.deepEqual(
      wave.map((e) => e.start),
      [2, 4, 6],
    )
  })
})
