/**
 * The quick churn experiment (test/eval/experiments/churn.ts): a host and 4 contributor nodes in
 * their own processes on a loopback testnet, one in four killed with SIGKILL at a random point of
 * every round while others join (restarted homes and new nodes). Every round completes, no
 * accepted update is lost, nothing is credited twice, and a fresh verifier that can reach only the
 * host's store replays the whole ledger clean.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runChurn } from '../../eval/experiments/churn.js'

describe('eval: churn (quick)', () => {
  it('loses no accepted update and credits nothing twice under kill -9 churn; verify is clean', async (t) => {
    const c = await runChurn({
      rounds: 3,
      contributors: 4,
      deadlineSec: 20,
      seed: 1,
      log: (line) => t.diagnostic(line),
    })
    t.diagnostic(JSON.stringify(c))
    assert.equal(c.roundsCompleted, 3)
    assert.ok(c.killed >= 3, 'someone was killed every round')
    assert.ok(c.acceptedInLedger > 0)
    assert.deepEqual(c.lostDetails, [])
    assert.equal(c.lostUpdates, 0)
    assert.equal(c.doubleCredits, 0)
    assert.deepEqual(c.verifyProblems, [])
    assert.equal(c.verifyOk, true)
  })
})
