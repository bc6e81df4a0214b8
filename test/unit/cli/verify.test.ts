import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { captureIO } from '../../support/cli-io.js'

describe('tandem verify', () => {
  it('refuses a malformed project key with a coded error before touching the network', async () => {
    for (const key of ['not-a-key', 'ab'.repeat(31), 'zz'.repeat(32)]) {
      const io = captureIO()
      const code = await run(['node', 'tandem', 'verify', key], io)
      assert.notEqual(code, 0)
      assert.match(io.errText, /is not a project key .*\[BAD_ARGUMENT\]/)
      assert.equal(io.outText, '')
    }
  })

  it('refuses bad --bootstrap and --timeout values', async () => {
    const key = 'ab'.repeat(32)
    for (const args of [
      ['--bootstrap', 'nowhere'],
      ['--timeout', '0'],
      ['--timeout', 'soon'],
    ]) {
      const io = captureIO()
      assert.equal(await run(['node', 'tandem', 'verify', key, ...args], io), 2)
      assert.match(io.errText, /\[BAD_ARGUMENT\]/)
    }
  })
})
