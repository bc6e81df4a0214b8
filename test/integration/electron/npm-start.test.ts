/**
 * `npm start` (build/start.mjs) without Electron's binary: it says why the desktop app does not
 * open and starts the headless daemon, whose UI answers in a browser's place. The Electron package
 * is forced absent (TANDEM_ELECTRON_DIR → an empty folder) so the test does not depend on whether
 * this machine downloaded it; the daemon runs on a loopback testnet.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { tempDir } from '../../support/data.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

describe('npm start', () => {
  it('without Electron: says why and starts the daemon with the browser UI', async (t) => {
    const testnet = await loopbackTestnet(t)
    const home = await tempDir(t)
    const noElectron = join(home, 'no-electron')
    await mkdir(noElectron)
    const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_ELECTRON_DIR: noElectron }
    delete env['NODE_TEST_CONTEXT']
    const child = spawn(
      process.execPath,
      ['build/start.mjs', '--home', join(home, 'state'), '--bootstrap', ...testnet.bootstrap],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const lines: string[] = []
    for (const s of [child.stdout, child.stderr])
      createInterface({ input: s }).on('line', (l) => lines.push(l))
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    )
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    })
    await waitUntil(
      () => lines.some((l) => /local API and UI on http:\/\/127\.0\.0\.1:\d+/.test(l)),
      'the daemon to serve',
      60_000,
    )
    assert.match(lines[0]!, /not opening the desktop app: the `electron` package is not installed/)
    assert.match(lines[1]!, /starting the headless daemon instead/)
    const url = /local API and UI on (http:\/\/127\.0\.0\.1:\d+)/.exec(lines.join('\n'))![1]!
    const page = await fetch(url)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<title>Tandem<\/title>/)
    child.kill('SIGTERM')
    assert.equal(await exited, 0, `the daemon stops cleanly on SIGTERM:\n${lines.join('\n')}`)
  })
})
