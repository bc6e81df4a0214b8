/**
 * The renderer's half of tandem://project/<key> links: the app opens #/projects/join/<key>
 * (electron/main/links.ts), and the built UI in real Chromium asks before joining. "Not now"
 * and Esc join nothing; "Join" joins that project; an already joined project says so.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chromiumMissing } from '../support/browser.js'
import { useBuiltUi } from '../support/built-ui.js'
import { waitConnected } from '../support/ui-driver.js'
import { attachBridge, FakeNode } from '../support/ui-fake-node.js'
import { activeNodeFixture, LM_KEY, MNIST_KEY } from '../support/ui-fixture.js'

describe('tandem:// link in the UI', { skip: chromiumMissing }, () => {
  const ui = useBuiltUi()

  async function open(key: string) {
    const fixture = activeNodeFixture()
    const mnist = fixture.projects.find((p) => p.key === MNIST_KEY)!
    mnist.joined = false
    const node = new FakeNode(fixture)
    const { page } = await ui.open({
      url: `${ui.server.url}#/projects/join/${key}`,
      prepare: (p) => attachBridge(p, node),
    })
    await waitConnected(page)
    return { page, node }
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
