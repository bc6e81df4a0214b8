/**
 * The built UI (out/renderer, the same bundle Electron loads and the daemon serves) in real Chromium.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { artifactPath } from '../support/artifacts.js'
import { chromiumMissing } from '../support/browser.js'
import { useBuiltUi } from '../support/built-ui.js'

describe('app shell in Chromium', { skip: chromiumMissing }, () => {
  const ui = useBuiltUi()
  const open = async (colorScheme: 'light' | 'dark'): Promise<Page> =>
    (await ui.open({ colorScheme })).page

  it('renders without a node and says how to connect one', async () => {
    const page = await open('light')
    assert.equal(await page.title(), 'Tandem')
    assert.equal(await page.getByRole('status').textContent(), 'No node')
    await page.getByRole('heading', { name: 'Not connected to a Tandem node' }).waitFor()
    assert.match((await page.locator('main').textContent()) ?? '', /tandem daemon/)
    await page.screenshot({ path: artifactPath('app-shell-light.png') })
  })

  it('follows the system dark theme', async () => {
    const light = await open('light')
    const dark = await open('dark')
    const bg = (p: Page) =>
      p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
    const [lightBg, darkBg] = [await bg(light), await bg(dark)]
    assert.notEqual(lightBg, darkBg)
    await dark.screenshot({ path: artifactPath('app-shell-dark.png') })
  })

  it('fits a 1024×700 window without horizontal scrolling', async () => {
    const page = await open('light')
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`)
  })
})
