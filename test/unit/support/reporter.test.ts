/** The summary line of `npm test` is only as honest as the reporter that counts: check it. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

interface Tally {
  passed: number
  failed: number
  skipped: number
  skips: string[]
}

/** Our own runner marks its children with NODE_TEST_CONTEXT; a nested run must not inherit it. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env['NODE_TEST_CONTEXT']
  return env
}

function runFixtures(...files: string[]): { tally: Tally; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-reporter-'))
  const tallyFile = join(dir, 'tally.json')
  try {
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=./test/support/reporter.mjs',
        ...files.map((f) => `test/support/fixtures/${f}`),
      ],
      { encoding: 'utf8', env: { ...childEnv(), TANDEM_TEST_TALLY: tallyFile } },
    )
    return { tally: JSON.parse(readFileSync(tallyFile, 'utf8')) as Tally, status: res.status }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('test reporter', () => {
  it('counts passes, failures and skips (a skipped suite once, with its reason)', () => {
    const { tally, status } = runFixtures('mixed.fixture.ts')
    assert.notEqual(status, 0)
    assert.deepEqual([tally.passed, tally.failed, tally.skipped], [1, 1, 2])
    assert.ok(tally.skips.some((s) => s.endsWith('needs a GPU')))
    assert.ok(tally.skips.some((s) => s.endsWith('no Electron binary')))
  })

  it('counts a file that crashes before any test as a failure', () => {
    const { tally } = runFixtures('crash.fixture.ts')
    assert.equal(tally.failed, 1)
    assert.equal(tally.passed, 0)
  })
})
