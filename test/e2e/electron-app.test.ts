/**
 * The real desktop app: Electron launched by Playwright. The window loads the UI from app://tandem,
 * the preload bridge answers a contract call forwarded to the node's utility process, a tandem://
 * link on the command line opens the join confirmation, and `tandem demo`'s window shows the demo
 * node's UI over its WebSocket. Electron's binary cannot be downloaded on our offline machines, so
 * there this reports itself as skipped; where `npx install-electron` fetched it, it runs.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { _electron as electron } from 'playwright-core'
import { startLoopbackTestnet } from '../../core/net/testnet.js'
import { artifactPath } from '../support/artifacts.js'
import { serveFakeDaemon, FakeNode } from '../support/ui-fake-node.js'
import { activeNodeFixture } from '../support/ui-fixture.js'

function electronBinary(): string | undefined {
  const dir = 'node_modules/electron'
  if (!existsSync(join(dir, 'path.txt'))) return undefined
  const bin = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim())
  return existsSync(bin) ? bin : undefined
}

const binary = electronBinary()
const skip = binary
  ? !process.env['DISPLAY'] && process.platform === 'linux'
    ? 'no X display for the Electron window (run under xvfb-run)'
    : undefined
  : 'the Electron binary is not installed (it downloads on first use, which fails offline: run `npx install-electron` with internet access)'

describe('desktop app (Electron)', { skip }, () => {
  async function launch(args: string[], env: Record<string, string> = {}) {
    const userData = await mkdtemp(join(tmpdir(), 'tandem-electron-'))
    const testnet = await startLoopbackTestnet()
    const app = await electron.launch({
      executablePath: binary,
      args: ['.', `--user-data-dir=${userData}`, ...args],
      env: { ...process.env, TANDEM_BOOTSTRAP: testnet.bootstrap.join(','), ...env } as Record<
        string,
        string
      >,
    })
    return {
      app,
      async close() {
        await app.close()
        await testnet.destroy()
        await rm(userData, { recursive: true, force: true })
      },
    }
  }

  it('opens the window on app://tandem and answers over the preload bridge from the node process', async () => {
    const { app, close } = await launch([])
    try {
      const page = await app.firstWindow()
      assert.match(page.url(), /^app:\/\/tandem\/index\.html/)
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
      assert.equal(await page.title(), 'Tandem')
      const info = await page.evaluate(() =>
        (
          window as unknown as {
            tandem: { request(m: string, p: unknown): Promise<{ value: { host: string } }> }
          }
        ).tandem.request('node.status', {}),
      )
      assert.ok(info, 'the node answered')
      const hasNode = await page.evaluate(() => typeof (window as { process?: unknown }).process)
      assert.equal(hasNode, 'undefined', 'no Node.js in the page')
      await page.screenshot({ path: artifactPath('electron-window.png') })
    } finally {
      await close()
    }
  })

  it('a tandem:// link on the command line opens the join confirmation', async () => {
    const key = 'ab'.repeat(32)
    const { app, close } = await launch([`tandem://project/${key}`])
    try {
      const page = await app.firstWindow()
      await page.getByTestId('join-link').waitFor()
      assert.equal(await page.getByTestId('join-link-key').textContent(), key)
    } finally {
      await close()
    }
  })

  it("tandem demo's window shows the demo node's UI over its WebSocket", async () => {
    const node = new FakeNode(activeNodeFixture())
    const daemon = await serveFakeDaemon('out/renderer', node)
    const { app, close } = await launch([], { TANDEM_UI_URL: daemon.url })
    try {
      const page = await app.firstWindow()
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
      assert.equal(await page.evaluate(() => 'tandem' in window), false, 'no preload in demo mode')
      await node.waitForCall('node.status')
    } finally {
      await close()
      await daemon.close()
    }
  })
})
