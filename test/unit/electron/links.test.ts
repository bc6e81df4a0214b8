/**
 * tandem://project/<key> links: parsed strictly, registered with the OS at run time, and handled
 * from a cold start's command line, a second instance's command line and macOS's open-url: each
 * opens the UI's join page for that project (which asks before joining: the renderer's part is
 * tested in test/e2e/ui-components.test.ts), never a join by itself.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { APP_INDEX_URL } from '../../../electron/main/app-protocol.js'
import {
  joinPageUrl,
  LinkRouter,
  projectKeyFromArgv,
  projectKeyFromLink,
} from '../../../electron/main/links.js'
import { FakeEvent, type FakeWindow } from '../../support/fake-electron.js'
import { startFakeDesktop } from '../../support/fake-desktop.js'
import { waitUntil } from '../../support/wait.js'

const KEY = 'c0ffee'.padEnd(64, '0')
const LINK = `tandem://project/${KEY}`
const JOIN = `${APP_INDEX_URL}#/projects/join/${KEY}`

describe('tandem:// links', () => {
  it('parse only a project link with a 64-hex key', () => {
    assert.equal(projectKeyFromLink(LINK), KEY)
    assert.equal(projectKeyFromLink(`${LINK}/`), KEY)
    assert.equal(
      projectKeyFromLink(LINK.toUpperCase().replace('TANDEM://PROJECT', 'tandem://project')),
      KEY,
    )
    for (const bad of [
      `tandem://project/${KEY}0`,
      `tandem://project/${KEY.slice(1)}`,
      `tandem://projects/${KEY}`,
      `https://project/${KEY}`,
      `tandem://project/${KEY}/../../etc`,
      'tandem://project/',
      '',
    ])
      assert.equal(projectKeyFromLink(bad), null, bad)
    assert.equal(projectKeyFromArgv(['/opt/Tandem/tandem', '--hidden', LINK]), KEY)
    assert.equal(projectKeyFromArgv(['/opt/Tandem/tandem', '--flag']), null)
  })

  it('the join page is the UI page with the key in its fragment', () => {
    assert.equal(joinPageUrl(APP_INDEX_URL, KEY), JOIN)
    assert.equal(
      joinPageUrl('http://localhost:5173/#/x', KEY),
      `http://localhost:5173/#/projects/join/${KEY}`,
    )
  })

  it('a link that arrives before the window waits for it; a later one wins', () => {
    const router = new LinkRouter()
    router.receive(`tandem://project/${'1'.repeat(64)}`)
    router.receive(LINK)
    const shown: string[] = []
    router.attach((k) => shown.push(k))
    assert.deepEqual(shown, [KEY])
    assert.equal(router.receive('https://not-a-link'), false)
    router.receive(['x', LINK])
    assert.deepEqual(shown, [KEY, KEY])
  })

  it('is registered with the OS at run time (packaged: the app; development: electron + folder)', async (t) => {
    const packaged = await startFakeDesktop(t)
    assert.deepEqual(packaged.electron.app.protocolClients, [{ protocol: 'tandem' }])
    const dev = await startFakeDesktop(t, { packaged: false })
    assert.deepEqual(dev.electron.app.protocolClients, [
      { protocol: 'tandem', path: process.execPath, args: [dev.dir] },
    ])
  })

  it('from a cold start: the window opens on the join page, shown even when started hidden', async (t) => {
    const d = await startFakeDesktop(t, { argv: ['/opt/Tandem/tandem', '--hidden', LINK] })
    const win = d.desktop.window() as FakeWindow
    assert.deepEqual(win.loaded, [JOIN])
    win.emit('ready-to-show')
    assert.equal(win.visible, true)
    assert.deepEqual(d.node().calls, [], 'nothing joined')
  })

  it('from a second instance: the running window shows the join page', async (t) => {
    const d = await startFakeDesktop(t)
    const win = d.desktop.window() as FakeWindow
    win.hide()
    d.electron.app.emit('second-instance', new FakeEvent(), ['/opt/Tandem/tandem', LINK], '/')
    assert.deepEqual(win.loaded, [APP_INDEX_URL, JOIN])
    assert.equal(win.visible, true)
    // A second start without a link just shows the window.
    win.hide()
    d.electron.app.emit('second-instance', new FakeEvent(), ['/opt/Tandem/tandem'], '/')
    assert.equal(win.visible, true)
    assert.equal(win.loaded.length, 2)
  })

  it('from macOS open-url', async (t) => {
    const d = await startFakeDesktop(t, { platform: 'darwin' })
    const event = new FakeEvent()
    d.electron.app.emit('open-url', event, LINK)
    assert.equal(event.defaultPrevented, true)
    const win = d.desktop.window() as FakeWindow
    await waitUntil(() => win.loaded.includes(JOIN), 'the join page')
    d.electron.app.emit('open-url', new FakeEvent(), 'tandem://project/not-a-key')
    assert.equal(win.loaded.filter((u) => u === JOIN).length, 1, 'a bad link changes nothing')
  })
})
