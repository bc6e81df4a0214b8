/**
 * `tandem daemon` run as a service would run it (stdout a pipe, not a terminal): the token stays
 * out of its output, which names daemon.json instead; `tandem daemon --new-token` replaces the
 * running daemon's token (the old one gets 401) and `tandem url` prints the current URL.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { tempDir } from '../../support/data.js'
import { spawnTandem, stopWhenDone } from '../../support/process.js'
import { loopbackTestnet } from '../../support/swarm.js'

async function tandem(args: string[], isTTY = false) {
  const io = { out: '', err: '' }
  const code = await run(['node', 'tandem', ...args], {
    out: (t) => void (io.out += t),
    err: (t) => void (io.err += t),
    isTTY,
  })
  return { code, ...io }
}

const health = (port: number, token: string) =>
  fetch(`http://127.0.0.1:${port}/api/app.info`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  }).then((r) => r.status)

describe('tandem daemon and its token', () => {
  it('piped output has no token; --new-token replaces it and the old one is refused', async (t) => {
    // The daemon goes before the testnet (teardown runs in registration order).
    const holdDaemon = stopWhenDone(t)
    const net = await loopbackTestnet(t)
    const home = await tempDir(t, 'tandem-daemon-home-')
    const daemon = holdDaemon(
      spawnTandem(['daemon', '--home', home, '--bootstrap', net.bootstrap[0]!, '--backend', 'cpu']),
    )
    await daemon.waitFor(/press Ctrl-C to stop/, 60_000)
    const file = join(home, 'data', 'daemon.json')
    const first = JSON.parse(await readFile(file, 'utf8')) as { port: number; token: string }
    const out = daemon.output()
    assert.ok(!out.includes(first.token), `the token is in the output:\n${out}`)
    assert.ok(!out.includes('#token='), out)
    assert.ok(out.includes(file), `daemon.json's path is not shown:\n${out}`)
    assert.match(out, /`tandem url`/)
    assert.equal(await health(first.port, first.token), 200)

    const url = await tandem(['url', '--home', home])
    assert.equal(url.code, 0, url.err)
    assert.equal(url.out, `http://127.0.0.1:${first.port}/#token=${first.token}\n`)

    const rotated = await tandem(['daemon', '--new-token', '--home', home])
    assert.equal(rotated.code, 0, rotated.err)
    const second = JSON.parse(await readFile(file, 'utf8')) as { port: number; token: string }
    assert.equal(second.port, first.port)
    assert.match(second.token, /^[0-9a-f]{64}$/)
    assert.notEqual(second.token, first.token)
    assert.ok(rotated.out.includes(file), rotated.out)
    assert.ok(!rotated.out.includes(second.token), 'not a terminal: no token printed')
    assert.equal(await health(first.port, first.token), 401)
    assert.equal(await health(second.port, second.token), 200)
    // The CLI reads the new file, and a terminal is shown the new URL.
    assert.equal((await tandem(['status', '--home', home])).code, 0)
    const shown = await tandem(['daemon', '--new-token', '--home', home], true)
    const third = JSON.parse(await readFile(file, 'utf8')) as { token: string }
    assert.match(shown.out, new RegExp(`#token=${third.token}\\n`))
    assert.equal(await health(first.port, second.token), 401)

    daemon.child.kill('SIGTERM')
    assert.equal((await daemon.exited).code, 0, daemon.output())
    const none = await tandem(['daemon', '--new-token', '--home', home])
    assert.equal(none.code, 2)
    assert.match(none.err, /\[NODE_NOT_RUNNING\]/)
  })
})
