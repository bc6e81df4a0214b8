import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { tempDir } from '../../support/data.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const spec = tinyProjectInput({ name: 'tiny-cli' })

describe('tandem project', () => {
  it('creates a project and prints its info; bad specs and keys are coded errors', async (t) => {
    const home = await tempDir(t, 'tandem-project-cli-')
    const saved = process.env['TANDEM_HOME']
    process.env['TANDEM_HOME'] = home
    t.after(() => {
      if (saved === undefined) delete process.env['TANDEM_HOME']
      else process.env['TANDEM_HOME'] = saved
    })
    let out = ''
    let err = ''
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }
    const file = join(home, 'project.json')
    await writeFile(file, JSON.stringify(spec))
    assert.equal(
      await run(['node', 'tandem', 'project', 'create', '--spec', file, '--json'], io),
      0,
      err,
    )
    const { key } = JSON.parse(out) as { key: string }
    assert.match(key, /^[0-9a-f]{64}$/)
    out = ''
    assert.equal(await run(['node', 'tandem', 'project', 'info', key, '--json'], io), 0, err)
    const info = JSON.parse(out) as { manifest: { name: string }; rounds: number }
    assert.equal(info.manifest.name, 'tiny-cli')
    assert.equal(info.rounds, 1)

    await writeFile(file, JSON.stringify({ ...spec, recipe: { ...spec.recipe, minUpdates: 99 } }))
    assert.equal(await run(['node', 'tandem', 'project', 'create', '--spec', file], io), 2)
    assert.match(err, /PROJECT_INVALID/)
    assert.equal(await run(['node', 'tandem', 'project', 'info', 'cd'.repeat(32)], io), 2)
    assert.match(err, /PROJECT_NOT_FOUND/)
  })
})
