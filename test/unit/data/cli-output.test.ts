/** `dataset list` and `info` print peer-supplied text without terminal control sequences. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { printable } from '../../../core/cli/commands/dataset.js'
import { defer, tempDir, writeText } from '../../support/data.js'
import { runTandem as tandem } from '../../support/cli-io.js'

const evil = 'nice\u001b[2J\u001b]0;pwned\u0007 name\u202e\ntwo'

describe('dataset CLI output', () => {
  it('printable drops controls and bidi overrides, turns line breaks into spaces', () => {
    assert.equal(printable(evil), 'nice[2J]0;pwned name two')
    assert.equal(printable('héllo 😀'), 'héllo 😀')
  })

  it('list and info strip escapes for display; the stored name and --json keep them', async (t) => {
    const home = await tempDir(t)
    const saved = process.env['TANDEM_HOME']
    process.env['TANDEM_HOME'] = home
    defer(t, () => {
      if (saved === undefined) delete process.env['TANDEM_HOME']
      else process.env['TANDEM_HOME'] = saved
    })
    const file = await writeText(await tempDir(t), 'c.txt', 'hello world')
    const imported = await tandem(['dataset', 'import', file, '--name', evil, '--json'])
    assert.equal(imported.code, 0, imported.err)
    const { key } = JSON.parse(imported.out) as { key: string }

    const list = await tandem(['dataset', 'list'])
    const info = await tandem(['dataset', 'info', key])
    for (const out of [list.out, info.out]) {
      const hidden = [...out].filter((c) => c !== '\n' && (c < ' ' || c === '\u202e'))
      assert.deepEqual(hidden, [])
      assert.match(out, /nice\[2J\]0;pwned name two/)
    }
    const json = await tandem(['dataset', 'list', '--json'])
    assert.equal((JSON.parse(json.out) as Array<{ name: string }>)[0]!.name, evil)
  })
})
