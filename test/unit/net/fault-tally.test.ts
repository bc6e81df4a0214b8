/** Per-identity fault counts: a window, a cap on identities, and the stream-error classification. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FaultTally } from '../../../core/net/fault-tally.js'
import { isPeerFault, isReplicationFault } from '../../../core/net/stream-errors.js'

const key = (n: number) => Buffer.alloc(32, n)

describe('fault tally', () => {
  it('counts faults per identity inside the window, then starts over', () => {
    let now = 0
    const tally = new FaultTally({ windowMs: 1000, maxEntries: 10, now: () => now })
    assert.equal(tally.add(key(1)), 1)
    assert.equal(tally.add(key(1)), 2)
    assert.equal(tally.add(key(2)), 1)
    now = 999
    assert.equal(tally.add(key(1)), 3)
    now = 1000
    assert.equal(tally.add(key(1)), 1)
    tally.delete(key(1))
    assert.equal(tally.add(key(1)), 1)
  })

  it('holds at most maxEntries identities, dropping the stalest', () => {
    let now = 0
    const tally = new FaultTally({ windowMs: 60_000, maxEntries: 3, now: () => now })
    tally.add(key(1))
    tally.add(key(2))
    tally.add(key(3))
    now = 10
    tally.add(key(1)) // key 2 is now the stalest
    tally.add(key(4))
    assert.equal(tally.size, 3)
    assert.equal(tally.add(key(1)), 3)
    assert.equal(tally.add(key(2)), 1, 'key 2 was dropped')
    for (let i = 10; i < 10_000; i++) tally.add(Buffer.from(String(i).padStart(32, '0')))
    assert.equal(tally.size, 3)
  })

  it('refuses bad options', () => {
    assert.throws(() => new FaultTally({ windowMs: 0, maxEntries: 1 }), { code: 'BAD_ARGUMENT' })
    assert.throws(() => new FaultTally({ windowMs: 1, maxEntries: 0 }), { code: 'BAD_ARGUMENT' })
  })
})

describe('stream errors', () => {
  const coded = (code: string) => Object.assign(new Error(`${code}: x`), { code })

  it('a bad replication handshake is a replication fault, not an immediate peer fault', () => {
    assert.equal(isReplicationFault(coded('INVALID_CAPABILITY')), true)
    assert.equal(isPeerFault(coded('INVALID_CAPABILITY')), false)
  })

  it('network errors are neither', () => {
    for (const err of [coded('ECONNRESET'), coded('ETIMEDOUT'), new Error('socket closed'), 'x']) {
      assert.equal(isReplicationFault(err), false)
      assert.equal(isPeerFault(err), false)
    }
    assert.equal(isPeerFault(new Error('Out of bounds')), true)
    assert.equal(isPeerFault(coded('INVALID_SIGNATURE')), true)
  })
})
