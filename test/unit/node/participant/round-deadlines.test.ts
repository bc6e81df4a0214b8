/** Which deadline holds for a round, and which let-pass rounds an extension revives. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RoundDeadlines } from '../../../../core/node/participant/round-deadlines.js'

describe('participant round deadlines', () => {
  it("the host may extend a round's deadline but never shorten it", () => {
    const d = new RoundDeadlines()
    assert.equal(d.deadline(0, 1000), 1000)
    d.hint(0, 5000, 0)
    assert.equal(d.deadline(0, 1000), 5000)
    d.hint(0, 3000, 0)
    assert.equal(d.deadline(0, 1000), 5000)
    assert.equal(d.deadline(0, 9000), 9000, 'a later ledger deadline wins')
    assert.equal(d.deadline(1, 1000), 1000, 'per round')
  })

  it('an extension revives a round let pass for its deadline, only if it lies ahead', () => {
    const d = new RoundDeadlines()
    d.skip(0, 'deadline')
    d.hint(0, 2000, 2000)
    assert.ok(d.isSkipped(0), 'the new deadline has passed too')
    d.hint(0, 2001, 2000)
    assert.ok(!d.isSkipped(0))
  })

  it('rounds finished late or failed stay given up, whatever the host announces', () => {
    const d = new RoundDeadlines()
    d.skip(0, 'late')
    d.skip(1, 'failed')
    d.hint(0, 10_000, 0)
    d.hint(1, 10_000, 0)
    assert.ok(d.isSkipped(0))
    assert.ok(d.isSkipped(1))
  })
})
