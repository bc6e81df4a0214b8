/**
 * The `tandem status | pause | resume | settings | credits | receipts | projects | join | leave`
 * commands against a real local API server found through daemon.json, in-process (run()).
 */
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { ProjectSummary, ReceiptView } from '../../../core/api/contract.js'
import { tempDir } from '../../support/data.js'
import { startFixture } from './helpers.js'
import { runTandem as tandem } from '../../support/cli-io.js'

const KEY = 'cd'.repeat(32)

const project = (joined: boolean, share = 100): ProjectSummary => ({
  key: KEY,
  name: 'tiny-shakespeare',
  description: 'a byte-level LM',
  joined,
  hosting: false,
  paused: false,
  share,
  round: 12,
  contributors: 3,
  model: { kind: 'transformer', params: 471_000, gflopPerSample: 0.06 },
  dataset: { key: 'ef'.repeat(32), name: 'shakespeare', license: 'CC0', bytes: 1_000_000 },
  host: 'ab'.repeat(32),
  bandwidthPerRound: 2_000_000,
  diskBytes: 4_000_000,
  recipe: { innerSteps: 100, batchSize: 32, roundDeadlineSec: 300, rule: 'centered-clip' },
  credits: 12.5,
  reputation: 0.9,
})

const receipt: ReceiptView = {
  project: KEY,
  projectName: 'tiny-shakespeare',
  round: 11,
  closedAt: Date.UTC(2026, 10, 22, 10, 0, 0),
  updateHash: '00'.repeat(32),
  accepted: false,
  reason: 'late',
  samples: 3200,
  quality: 0,
  credits: 0,
  lossBefore: 2.1,
  lossAfter: null,
}

describe('CLI client commands', () => {
  it('status, pause and resume talk to the daemon named by daemon.json', async (t) => {
    const { dir } = await startFixture(t)
    const status = await tandem(['status', '--home', dir])
    assert.equal(status.code, 0, status.err)
    assert.match(status.out, /^node abcdefgh: idle \(no joined project\)$/m)
    const paused = await tandem(['pause', '--after-round', '--home', dir])
    assert.match(paused.out, /will pause when the current round ends/)
    const now = await tandem(['pause', '--home', dir, '--json'])
    assert.equal((JSON.parse(now.out) as { activity: string }).activity, 'paused')
    const resumed = await tandem(['resume', '--home', dir])
    assert.match(resumed.out, /: idle /)
  })

  it('settings get / set, with values typed from the text and bad ones named', async (t) => {
    const { dir, settings } = await startFixture(t)
    const all = await tandem(['settings', '--home', dir])
    assert.equal(all.code, 0, all.err)
    assert.match(all.out, /^maxThreads\s+2$/m)
    assert.match(all.out, /^schedule\s+\{"enabled":false,"windows":\[\]\}$/m)
    assert.equal((await tandem(['settings', 'get', 'dutyCycle', '--home', dir])).out, '0.8\n')
    assert.equal(
      (await tandem(['settings', 'get', 'dutyCycle', '--json', '--home', dir])).out,
      '0.8\n',
    )

    const set = await tandem([
      'settings',
      'set',
      'maxThreads=3',
      'backend=wasm',
      'pauseOnBattery=false',
      'schedule={"enabled":true,"windows":[{"day":1,"start":"09:00","end":"17:00"}]}',
      '--home',
      dir,
    ])
    assert.equal(set.code, 0, set.err)
    assert.equal(settings.get().maxThreads, 3)
    assert.equal(settings.get().backend, 'wasm')
    assert.equal(settings.get().pauseOnBattery, false)
    assert.equal(settings.get().schedule.windows.length, 1)

    for (const [word, pattern] of [
      ['maxThreads=0', /maxThreads:.*\[SETTINGS_INVALID\]/],
      ['turbo=true', /unknown setting "turbo".*\[SETTINGS_INVALID\]/],
      ['maxThreads', /not key=value.*\[BAD_ARGUMENT\]/],
    ] as const) {
      const bad = await tandem(['settings', 'set', word, '--home', dir])
      assert.equal(bad.code, 2)
      assert.match(bad.err, pattern)
    }
    assert.equal(settings.get().maxThreads, 3)
    const unknown = await tandem(['settings', 'get', 'nope', '--home', dir])
    assert.match(unknown.err, /\[SETTINGS_INVALID\]/)
  })

  it('projects, join, leave, receipts and credits', async (t) => {
    const joined: Array<{ project: string; share?: number }> = []
    const { dir } = await startFixture(
      t,
      {},
      {
        'projects.list': () => [project(false)],
        'projects.join': (p) => {
          joined.push(p)
          return project(true, p.share ?? 100)
        },
        'projects.leave': () => ({ ok: true as const }),
        'receipts.list': ({ limit }) => [receipt].slice(0, limit),
        'credits.summary': () => ({
          total: 12.5,
          rac: 1.25,
          projects: [
            {
              project: KEY,
              name: 'tiny-shakespeare',
              credits: 12.5,
              rac: 1.25,
              reputation: 0.9,
              accepted: 4,
              rejected: 1,
            },
          ],
          history: [],
        }),
      },
    )
    const list = await tandem(['projects', '--home', dir])
    assert.match(list.out, /^cdcdcdcd…\s+tiny-shakespeare\s+seen\s+100\s+12\s+3\s+12\.5$/m)
    const join = await tandem([
      'join',
      `tandem://project/${KEY.toUpperCase()}`,
      '--share',
      '3',
      '--home',
      dir,
    ])
    assert.equal(join.code, 0, join.err)
    assert.deepEqual(joined, [{ project: KEY, share: 3 }])
    assert.equal(join.out, `joined tiny-shakespeare (${KEY}), share 3\n`)
    assert.equal((await tandem(['leave', KEY, '--home', dir])).out, `left ${KEY}\n`)
    assert.match(
      (await tandem(['leave', 'xyz', '--home', dir])).err,
      /not a project key.*\[BAD_ARGUMENT\]/,
    )
    assert.match(
      (await tandem(['join', KEY, '--share', '0', '--home', dir])).err,
      /\[BAD_ARGUMENT\]/,
    )

    const receipts = await tandem(['receipts', '--home', dir])
    assert.match(receipts.out, /2026-11-22 10:00:00\s+tiny-shakespeare\s+11\s+rejected: late/)
    const json = await tandem(['receipts', '--json', '--limit', '1', '--home', dir])
    assert.deepEqual(JSON.parse(json.out), [receipt])
    const credits = await tandem(['credits', '--home', dir])
    assert.match(credits.out, /^total 12\.5 credits, recent average 1\.25 a day$/m)
    assert.match(credits.out, /tiny-shakespeare\s+12\.5\s+1\.25\s+0\.90\s+4\s+1/)
  })

  it('a coded error from the node reaches the terminal with its code', async (t) => {
    const { dir } = await startFixture(t)
    const res = await tandem(['credits', '--home', dir]) // the fixture's handler has a bug
    assert.equal(res.code, 2)
    assert.equal(res.err, 'tandem: credits.summary failed [INTERNAL]\n')
  })

  it('NODE_NOT_RUNNING without daemon.json, and for one a dead daemon left behind', async (t) => {
    const home = await tempDir(t)
    const none = await tandem(['status', '--home', home])
    assert.equal(none.code, 2)
    assert.match(none.err, /no Tandem daemon is running.*tandem daemon.*\[NODE_NOT_RUNNING\]/)

    // A port nothing listens on any more, and a pid that is not running.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    await mkdir(join(home, 'data'), { recursive: true })
    await writeFile(
      join(home, 'data', 'daemon.json'),
      JSON.stringify({ port, token: 'ab'.repeat(32), pid: 2 ** 22 + 12345 }),
    )
    const stale = await tandem(['status', '--home', home])
    assert.equal(stale.code, 2)
    assert.match(stale.err, /is gone: the daemon stopped without cleaning up.*\[NODE_NOT_RUNNING\]/)
  })

  it('a daemon that restarted (new token) is reported as such', async (t) => {
    const { dir, stateDir, server } = await startFixture(t)
    const old = { port: server.port, token: 'ab'.repeat(32), pid: process.pid }
    await writeFile(join(stateDir, 'daemon.json'), JSON.stringify(old))
    const res = await tandem(['status', '--home', dir])
    assert.equal(res.code, 2)
    assert.match(res.err, /refused the token in daemon.json.*\[UNAUTHORIZED\]/)
  })
})
