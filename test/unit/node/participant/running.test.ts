/**
 * Opening what a participant runs on: stop() while it still waits for the ledger ends the wait at
 * once, closes what was opened and yields nothing (no half-open Running), on a store with no peers.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import Corestore from 'corestore'
import { openRunning } from '../../../../core/node/participant/running.js'
import type { ParticipantState } from '../../../../core/node/participant/types.js'
import { defer, tempDir } from '../../../support/data.js'
import { waitUntil } from '../../../support/wait.js'

describe('participant running resources', () => {
  it('an abort while waiting for the ledger ends the wait and opens nothing', async (t) => {
    const store = new Corestore(await tempDir(t))
    defer(t, () => store.close())
    const stopping = new AbortController()
    const states: ParticipantState[] = []
    const warnings: unknown[] = []
    const opening = openRunning({
      store,
      keyPair: { publicKey: randomBytes(32), secretKey: randomBytes(64) },
      project: randomBytes(32),
      ledgerTimeoutMs: 60_000,
      dataTimeoutMs: 60_000,
      signal: stopping.signal,
      setState: (s) => states.push(s),
      setDetail: () => {},
      onLedger: () => assert.fail('there is no ledger'),
      onAppend: () => {},
      onWarning: (err) => warnings.push(err),
    })
    await waitUntil(() => states.includes('waiting-ledger'), 'waiting-ledger')
    const t0 = Date.now()
    stopping.abort()
    assert.equal(await opening, null)
    const ms = Date.now() - t0
    assert.ok(ms < 5000, `the wait went on ${ms} ms after the abort (the read timeout is 60 s)`)
    assert.deepEqual(warnings, [])
  })
})
