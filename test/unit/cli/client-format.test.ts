/** Human output of the daemon client commands, from API values alone. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  duration,
  formatProjects,
  formatReceipts,
  formatStatus,
  parseAssignments,
} from '../../../core/cli/commands/client-format.js'

describe('client command output', () => {
  it('status shows activity, reason, backend and round progress', () => {
    const text = formatStatus({
      activity: 'training',
      reason: 'in schedule window Mon 09:00–17:00',
      userPaused: false,
      pauseAfterRound: true,
      key: 'ab'.repeat(32),
      displayId: 'yb1nfw8e',
      peers: 4,
      backend: { chosen: 'wasm', device: 'cpu (2 threads)', skipped: [] },
      progress: {
        project: 'cd'.repeat(32),
        round: 7,
        phase: 'training',
        step: 40,
        steps: 100,
        etaSec: 95,
        samplesPerSec: 3512.4,
        loss: 0.53219,
      },
      startedAt: Date.UTC(2026, 10, 22, 8, 0, 0),
    })
    assert.equal(
      text,
      [
        'node yb1nfw8e: training (in schedule window Mon 09:00–17:00)',
        'will pause when the current round ends',
        'peers 4, backend wasm on cpu (2 threads)',
        'project cdcdcdcd… round 7: training step 40/100, about 1 min 35 s left, 3,512 samples/s, loss 0.5322',
        'up since 2026-11-22T08:00:00.000Z',
        '',
      ].join('\n'),
    )
  })

  it('durations, and empty lists say what to do', () => {
    assert.equal(duration(42), '42 s')
    assert.equal(duration(3600 * 2 + 60 * 5), '2 h 5 min')
    assert.match(formatProjects([]), /tandem join/)
    assert.equal(formatReceipts([]), 'no receipts yet\n')
  })

  it('assignments parse JSON values and keep plain words as strings', () => {
    assert.deepEqual(parseAssignments(['maxThreads=4', 'backend=cpu', 'useGpu=false']), {
      maxThreads: 4,
      backend: 'cpu',
      useGpu: false,
    })
    assert.throws(() => parseAssignments(['backend=4']), /backend:/)
    assert.throws(() => parseAssignments(['=4']), /not key=value/)
  })
})
