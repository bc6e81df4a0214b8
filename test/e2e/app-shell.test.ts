/**
 * The built UI (out/renderer, the same bundle Electron loads and the daemon serves) in real Chromium.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { artifactPath } from '../support/artifacts.js'
import { chromiumMissing, launchChromium } from '../support/browser.js'
import { serveDirectory, type StaticServer } from '../support/static-server.js'

const built = 'out/renderer'

describe('app shell in Chromium', { skip: chromiumMissing }, () => {
  let server: StaticServer
  let browser: Browser

  before(async () => {
    assert.ok(existsSync(`${built}/index.html`), 'run `npm run build` first (npm test does)')
    server = await serveDirectory(built)
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await server?.close()
  })

  async function open(colorScheme: 'light' | 'dark'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme })
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text())
    })
    await page.goto(server.url)
    await page.getByRole('heading', { name: 'Tandem', level: 1 }).waitFor()
    assert.deepEqual(errors, [], 'the page logged errors')
    return page
  }

  it('renders without a node and says how to connect one', async () => {
    const page = await open('light')
    assert.equal(await page.title(), 'Tandem')
    assert.equal(await page.getByRole('status').textContent(), 'No node')
    await page.getByRole('heading', { name: 'Not connected to a Tandem node' }).waitFor()
    assert.match((await page.locator('main').textContent()) ?? '', /tandem daemon/)
    await page.screenshot({ path: artifactPath('app-shell-light.png') })
    await page.close()
  })

  it('follows the system dark theme', async () => {
    const light = await open('light')
    const dark = await open('dark')
    const bg = (p: Page) =>
      p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
    const [lightBg, darkBg] = [await bg(light), await bg(dark)]
    assert.notEqual(lightBg, darkBg)
    await dark.screenshot({ path: artifactPath('app-shell-dark.png') })
    await light.close()
    await dark.close()
  })

  it('fits a 1024×700 window without horizontal scrolling', async () => {
    const page = await open('light')
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`)
    await page.close()
  })
})
