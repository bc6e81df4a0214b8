/** The README's main-job command, run as a user would: through the installed `tandem` bin. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spawnTandem } from '../support/process.js'

describe('tandem demo', () => {
  it('starts a loopback network whose peers all meet, then exits with --once', async () => {
    const demo = spawnTandem(['demo', '--peers', '4', '--once'])
    await demo.waitFor(/all 4 peers met each other/)
    const { code } = await demo.exited
    assert.equal(code, 0, demo.output())
    const testnet = demo.output().match(/private DHT on (\S+)/)
    assert.ok(testnet?.[1]?.startsWith('127.0.0.1:'), 'the DHT must be on loopback')
    assert.equal(demo.output().match(/← hello from/g)?.length, 4 * 3)
  })

  it('keeps running until Ctrl-C, then stops cleanly', async () => {
    const demo = spawnTandem(['demo'])
    await demo.waitFor(/press Ctrl-C to stop/)
    demo.child.kill('SIGINT')
    const { code } = await demo.exited
    assert.equal(code, 0)
    assert.match(demo.output(), /stopped\n$/)
  })

  it('rejects a bad --peers value with a coded error', async () => {
    const demo = spawnTandem(['demo', '--peers', '1'])
    const { code } = await demo.exited
    assert.equal(code, 2)
    assert.match(demo.output(), /--peers must be an integer from 2 to 16 \[BAD_ARGUMENT\]/)
  })
})
