/**
 * The real desktop app: Electron launched by Playwright, the preload bridge answering a contract call.
 * Electron's binary cannot be downloaded on the offline CI machines, so there this reports itself as
 * skipped; on a machine where `npm install` fetched Electron it runs.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { _electron as electron } from 'playwright-core'
import { artifactPath } from '../support/artifacts.js'

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
  : 'the Electron binary is not installed (its download fails offline; npm skipped the optional package)'

describe('desktop app (Electron)', { skip }, () => {
  it('opens the window and answers app.info over the preload bridge', async () => {
    const app = await electron.launch({ executablePath: binary, args: ['.'] })
    try {
      const page = await app.firstWindow()
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
      assert.equal(await page.title(), 'Tandem')
      const host = await page.evaluate(() => (window as { tandem?: { host: string } }).tandem?.host)
      assert.equal(host, 'electron')
      await page.screenshot({ path: artifactPath('electron-window.png') })
    } finally {
      await app.close()
    }
  })
})
