/**
 * The renderer's half of tandem://project/<key> links: the app opens #/projects/join/<key>
 * (electron/main/links.ts), and the built UI in real Chromium asks before joining. "Not now"
 * and Esc join nothing; "Join" joins that project; an already joined project says so.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, afterEach, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { chromiumMissing, launchChromium } from '../support/browser.js'
import { serveDirectory, type StaticServer } from '../support/static-server.js'
import { openUi, waitConnected, type OpenedUi } from '../support/ui-driver.js'
import { attachBridge, FakeNode } from '../support/ui-fake-node.js'
import { activeNodeFixture, LM_KEY, MNIST_KEY } from '../support/ui-fixture.js'

const built = 'out/renderer'

describe('tandem:// link in the UI', { skip: chromiumMissing }, () => {
  let server: StaticServer
  let browser: Browser
  const opened: OpenedUi[] = []

  before(async () => {
    assert.ok(existsSync(`${built}/index.html`), 'run `npm run build:app` first (npm test does)')
    server = await serveDirectory(built)
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })
  afterEach(async () => {
    for (const ui of opened.splice(0)) {
      await ui.page.close()
      assert.deepEqual(ui.errors, [], 'the page logged errors')
    }
  })

  async function open(key: string) {
    const fixture = activeNodeFixture()
    const mnist = fixture.projects.find((p) => p.key === MNIST_KEY)!
    mnist.joined = false
    const node = new FakeNode(fixture)
    const ui = await openUi(browser, `${server.url}#/projects/join/${key}`, {
      prepare: (page) => attachBridge(page, node),
    })
    opened.push(ui)
    await waitConnected(ui.page)
    return { page: ui.page, node }
  }

  it('asks before joining; "Not now" and Esc join nothing', async () => {
    const { page, node } = await open(MNIST_KEY)
    const dialog = page.getByTestId('join-link')
    await dialog.getByRole('heading', { name: 'Join MNIST digits?' }).waitFor()
    assert.equal(await page.getByTestId('join-link-key').textContent(), MNIST_KEY)
    await dialog.getByRole('button', { name: 'Not now' }).click()
    await dialog.waitFor({ state: 'detached' })
    assert.equal(new URL(page.url()).hash, '#/projects')
    await page.evaluate((k) => (window.location.hash = `#/projects/join/${k}`), MNIST_KEY)
    await dialog.waitFor()
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    assert.deepEqual(node.callsOf('projects.join'), [])
  })

  it('"Join" joins that project', async () => {
    const { page, node } = await open(MNIST_KEY)
    await page.getByTestId('join-link').getByRole('button', { name: 'Join' }).click()
    const call = await node.waitForCall('projects.join')
    assert.deepEqual(call.params, { project: MNIST_KEY })
    await page.getByTestId('join-link').waitFor({ state: 'detached' })
  })

  it('an already joined project says so and offers no join', async () => {
    const { page, node } = await open(LM_KEY)
    await page.getByTestId('join-link-joined').waitFor()
    assert.equal(
      await page.getByTestId('join-link').getByRole('button', { name: 'Join' }).count(),
      0,
    )
    assert.deepEqual(node.callsOf('projects.join'), [])
  })
})
