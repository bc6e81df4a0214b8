import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { stopSignal } from '../../../core/cli/stop-signal.js'

describe('stop signal', () => {
  it('removes its SIGINT/SIGTERM listeners when disposed', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]
    const signal = stopSignal()
    assert.deepEqual(
      [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')],
      [before[0]! + 1, before[1]! + 1],
    )
    signal.stop('enough peers')
    assert.equal(await signal.stopped, 'enough peers')
    signal.dispose()
    assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before)
  })

  it('stops on SIGTERM', async () => {
    const signal = stopSignal()
    process.emit('SIGTERM')
    assert.equal(await signal.stopped, 'terminated')
    signal.dispose()
  })
})
