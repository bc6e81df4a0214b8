/** The status line's activity and reason, in order of precedence (core/node/node-status.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { activityOf, type ActivityInput } from '../../../core/node/node-status.js'

const base: ActivityInput = {
  userPaused: false,
  decision: { run: true, activity: 'training', reason: '' },
  offline: false,
  training: null,
  joined: 1,
  firstDetail: () => 'round 3 is open; waiting for this node’s turn',
}

describe('node status activity', () => {
  it('goes by precedence: paused, policy, offline, training, idle, waiting', () => {
    const on = (change: Partial<ActivityInput>) => activityOf({ ...base, ...change })
    const battery = { run: false, activity: 'paused', reason: 'on battery' } as const
    const training = { name: 'tiny', round: 4 }
    assert.deepEqual(on({ userPaused: true, decision: battery, offline: true, training }), {
      activity: 'paused',
      reason: 'paused by you',
    })
    assert.deepEqual(on({ decision: battery, offline: true }), {
      activity: 'paused',
      reason: 'on battery',
    })
    assert.deepEqual(on({ offline: true, training }), {
      activity: 'offline',
      reason: 'not connected to the network yet',
    })
    assert.deepEqual(on({ training }), { activity: 'training', reason: 'tiny: round 4' })
    assert.deepEqual(on({ training: { name: undefined, round: undefined } }), {
      activity: 'training',
      reason: 'project: round ?',
    })
    assert.deepEqual(on({ joined: 0 }), { activity: 'idle', reason: 'no project joined' })
    assert.deepEqual(on({}), {
      activity: 'waiting',
      reason: 'round 3 is open; waiting for this node’s turn',
    })
    assert.deepEqual(on({ firstDetail: () => '' }), {
      activity: 'waiting',
      reason: 'waiting for the next round',
    })
  })
})
