import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { captureIO } from '../../support/cli-io.js'

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }

describe('tandem CLI', () => {
  it('prints the version', async () => {
    const io = captureIO()
    assert.equal(await run(['node', 'tandem', '--version'], io), 0)
    assert.equal(io.outText.trim(), pkg.version)
  })

  it('reports unknown commands with a non-zero exit and the usage', async () => {
    const io = captureIO()
    assert.equal(await run(['node', 'tandem', 'frobnicate'], io), 1)
    assert.match(io.errText, /unknown command 'frobnicate'/)
    assert.match(io.errText, /Usage: tandem/)
  })

  it('info --json prints one parseable object and honours TANDEM_HOME', async () => {
    const io = captureIO()
    const saved = process.env['TANDEM_HOME']
    process.env['TANDEM_HOME'] = '/tmp/tandem-cli-test'
    try {
      assert.equal(await run(['node', 'tandem', 'info', '--json'], io), 0)
    } finally {
      if (saved === undefined) delete process.env['TANDEM_HOME']
      else process.env['TANDEM_HOME'] = saved
    }
    const info = JSON.parse(io.outText) as Record<string, string>
    assert.equal(info['version'], pkg.version)
    assert.equal(info['dataDir'], '/tmp/tandem-cli-test/data')
  })

  it('the installed bin (built dist/) prints usage for --help', () => {
    const res = spawnSync(process.execPath, ['core/cli/bin.mjs', '--help'], { encoding: 'utf8' })
    assert.equal(res.status, 0, res.stderr)
    assert.match(res.stdout, /^Usage: tandem \[options\] \[command\]/)
    assert.match(res.stdout, /--version/)
  })
})
