/**
 * Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security), one
 * test per item, named after it, asserted against the desktop app started on a fake `electron`
 * (test/support/fake-desktop.ts) and against the packaging configuration. The Electron binary
 * cannot run here; test/e2e/electron-app.test.ts checks the real window where it exists.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import yaml from 'js-yaml'
import { API_CHANNEL } from '../../../core/api/bridge.js'
import { APP_CSP, APP_INDEX_URL } from '../../../electron/main/app-protocol.js'
import { createBridge } from '../../../electron/preload/bridge.js'
import { FakeEvent, FakeWebContents, type FakeWindow } from '../../support/fake-electron.js'
import { startFakeDesktop } from '../../support/fake-desktop.js'

const builder = yaml.load(readFileSync('build/electron-builder.yml', 'utf8')) as {
  electronVersion: string
  electronFuses: Record<string, boolean>
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<
  string,
  Record<string, string> | undefined
>

function mainWindow(d: { desktop: { window(): unknown } }): FakeWindow {
  const win = d.desktop.window() as FakeWindow | null
  assert.ok(win, 'the app opened no window')
  return win
}

/** A page's request through app:// as Chromium would make it. */
function fetchApp(d: Awaited<ReturnType<typeof startFakeDesktop>>, url: string) {
  const handler = d.electron.protocolHandlers.get('app')
  assert.ok(handler, 'app:// is not served')
  return Promise.resolve(handler(new Request(url)))
}

describe('Electron security checklist', () => {
  it('1. Only load secure content', async (t) => {
    // The window loads the app's own UI from a secure custom scheme, even when the environment
    // names a dev server or a demo URL: those are honoured only when the app is not packaged.
    const d = await startFakeDesktop(t, {
      env: {
        ELECTRON_RENDERER_URL: 'http://localhost:5173/',
        TANDEM_UI_URL: 'http://127.0.0.1:4000/#token=x',
      },
    })
    assert.deepEqual(mainWindow(d).loaded, [APP_INDEX_URL])
    const scheme = d.electron.privileged.find((s) => s.scheme === 'app')
    assert.equal(scheme?.privileges?.secure, true)
    assert.equal(scheme?.privileges?.standard, true)
    assert.equal(scheme?.privileges?.bypassCSP, undefined)
  })

  it('2. Do not enable Node.js integration for remote content', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.nodeIntegration, false)
    assert.equal(prefs.nodeIntegrationInSubFrames, false)
    assert.equal(prefs.nodeIntegrationInWorker, false)
  })

  it('3. Enable context isolation', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.contextIsolation, true)
  })

  it('4. Enable process sandboxing', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.sandbox, true)
  })

  it('5. Handle session permission requests from remote content', async (t) => {
    const d = await startFakeDesktop(t)
    const session = d.electron.defaultSession
    assert.ok(session.request && session.check && session.device, 'handlers not installed')
    const contents = mainWindow(d).webContents
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'hid']) {
      let granted: boolean | null = null
      session.request(contents, permission, (g) => (granted = g), {
        requestingUrl: APP_INDEX_URL,
      })
      assert.equal(granted, false, `request for ${permission}`)
      assert.equal(session.check(contents, permission, 'app://tandem', {}), false)
    }
    assert.equal(session.device({ origin: 'app://tandem' }), false)
  })

  it('6. Do not disable webSecurity', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.webSecurity, true)
  })

  it('7. Define a Content-Security-Policy', async (t) => {
    const d = await startFakeDesktop(t)
    const res = await fetchApp(d, APP_INDEX_URL)
    assert.equal(res.status, 200)
    const csp = res.headers.get('content-security-policy')
    assert.equal(csp, APP_CSP)
    assert.match(csp!, /default-src 'none'/)
    assert.match(csp!, /script-src 'self'(;|$)/)
    assert.doesNotMatch(csp!, /unsafe-eval|\*/)
    // The page carries its own policy too (for the browser UI the daemon serves).
    assert.match(
      readFileSync('renderer/index.html', 'utf8'),
      /http-equiv="Content-Security-Policy"[\s\S]*script-src 'self'/,
    )
  })

  it('8. Do not enable allowRunningInsecureContent', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.allowRunningInsecureContent, false)
  })

  it('9. Do not enable experimental features', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.experimentalFeatures, false)
  })

  it('10. Do not use enableBlinkFeatures', async (t) => {
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.enableBlinkFeatures, undefined)
  })

  it('11. <webview>: Do not use allowpopups', async (t) => {
    // No <webview> at all: the tag is off, and the UI's sources never use one.
    const prefs = mainWindow(await startFakeDesktop(t)).options.webPreferences!
    assert.equal(prefs.webviewTag, false)
    const grep = spawnSync(
      'git',
      ['grep', '-il', '-e', 'allowpopups', '-e', '<webview', '--', 'renderer'],
      {
        encoding: 'utf8',
      },
    )
    assert.equal(grep.status, 1, `found in: ${grep.stdout}`)
  })

  it('12. <webview>: Verify options and params', async (t) => {
    // Any attempt to attach a <webview>, in any web contents, is refused.
    const d = await startFakeDesktop(t)
    const other = new FakeWebContents()
    d.electron.app.emit('web-contents-created', new FakeEvent(), other)
    for (const contents of [mainWindow(d).webContents, other]) {
      const prefs = { nodeIntegration: true, preload: '/tmp/evil.js' }
      assert.equal(
        contents.fireCancelable('will-attach-webview', prefs, { src: 'https://x' }),
        true,
      )
    }
  })

  it('13. Disable or limit navigation', async (t) => {
    // Every web contents ever created (not only our window's) refuses navigations and redirects.
    const d = await startFakeDesktop(t)
    const other = new FakeWebContents()
    d.electron.app.emit('web-contents-created', new FakeEvent(), other)
    for (const contents of [mainWindow(d).webContents, other]) {
      for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
        assert.equal(contents.fireCancelable(event, 'https://evil.example/'), true, event)
        assert.equal(contents.fireCancelable(event, 'app://tandem/index.html'), true, event)
      }
    }
  })

  it('14. Disable or limit creation of new windows', async (t) => {
    const d = await startFakeDesktop(t)
    const other = new FakeWebContents()
    d.electron.app.emit('web-contents-created', new FakeEvent(), other)
    for (const contents of [mainWindow(d).webContents, other]) {
      assert.ok(contents.openHandler, 'no window-open handler')
      for (const url of ['https://github.com/tandem', 'app://tandem/index.html', 'about:blank'])
        assert.deepEqual(contents.openHandler({ url }), { action: 'deny' }, url)
    }
    assert.equal(d.electron.BrowserWindow.created.length, 1, 'no second window')
  })

  it('15. Do not use shell.openExternal with untrusted content', async (t) => {
    const d = await startFakeDesktop(t)
    const open = mainWindow(d).webContents.openHandler!
    const refused = [
      'file:///etc/passwd',
      'http://github.com/x',
      'https://evil.example/',
      'https://github.com.evil.example/',
      'https://user@github.com/',
      'smb://server/share',
      'javascript:alert(1)',
      'ms-msdt:/id',
    ]
    for (const url of [...refused, 'https://github.com/tandem/tandem']) open({ url })
    assert.deepEqual(d.electron.opened, ['https://github.com/tandem/tandem'])
  })

  it('16. Use a current version of Electron', () => {
    const version = pkg['devDependencies']?.['electron']
    assert.ok(version, 'electron is not a devDependency')
    assert.match(version, /^\d+\.\d+\.\d+$/, 'an exact version')
    assert.ok(Number(version.split('.')[0]) >= 45, `Electron ${version} is out of support`)
    assert.equal(builder.electronVersion, version, 'the builder config pins the same version')
  })

  it('17. Validate the sender of all IPC messages', async (t) => {
    const d = await startFakeDesktop(t)
    const call = (url: string | null) =>
      d.electron.ipcMain.invoke(API_CHANNEL, url, { id: 1, method: 'app.info', params: {} })
    assert.deepEqual(((await call(`${APP_INDEX_URL}#/settings`)) as { ok: boolean }).ok, true)
    for (const url of [
      null,
      'app://evil/index.html',
      'app://tandem.evil/index.html',
      'https://tandem/index.html',
      'app://tandem/other.html',
      'file:///opt/Tandem/resources/app.asar/out/renderer/index.html',
      'not a url',
    ]) {
      const out = (await call(url)) as { code?: string }
      assert.equal(out.code, 'UNTRUSTED_SENDER', String(url))
    }
  })

  it('18. Avoid usage of the file:// protocol and prefer usage of custom protocols', async (t) => {
    const d = await startFakeDesktop(t)
    assert.ok(mainWindow(d).loaded.every((u) => u.startsWith('app://tandem/')))
    assert.equal((await fetchApp(d, 'app://tandem/assets/app.js')).status, 200)
    assert.equal(
      (await fetchApp(d, 'app://tandem/assets/app.js')).headers.get('content-type'),
      'text/javascript; charset=utf-8',
    )
    // Only the renderer's files: no way out of its folder, no other host.
    for (const url of [
      'app://tandem/../secret.txt',
      'app://tandem/%2e%2e/secret.txt',
      'app://tandem/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://tandem/missing.html',
      'app://other/index.html',
    ]) {
      const res = await fetchApp(d, url)
      assert.equal(res.status, 404, url)
      assert.doesNotMatch(await res.text(), /not for the page/)
    }
  })

  it('19. Check which fuses you can change', () => {
    assert.deepEqual(builder.electronFuses, {
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    })
  })

  it('20. Do not expose Electron APIs to untrusted web content', async (t) => {
    // The preload hands the page one frozen object of three contract functions, never ipcRenderer.
    const exposed = createBridge({ invoke: () => Promise.resolve(null), on: () => undefined })
    assert.ok(Object.isFrozen(exposed))
    assert.deepEqual(Object.keys(exposed).sort(), ['host', 'request', 'subscribe'])
    const preload = readFileSync('electron/preload/index.ts', 'utf8')
    assert.equal(preload.match(/exposeInMainWorld\(/g)?.length, 1)
    assert.match(preload, /exposeInMainWorld\('tandem', createBridge\(ipcRenderer\)\)/)
    // A page that is not the app's own (the demo's daemon UI) gets no preload at all.
    const demo = await startFakeDesktop(t, {
      packaged: false,
      env: { TANDEM_UI_URL: 'http://127.0.0.1:4000/#token=abc' },
    })
    assert.equal(mainWindow(demo).options.webPreferences!.preload, undefined)
  })
})

describe('beyond the checklist', () => {
  it('a packaged app has no default menu (no Reload, no Toggle Developer Tools) and no devtools', async (t) => {
    const d = await startFakeDesktop(t)
    assert.equal(d.electron.applicationMenu, null)
    assert.equal(mainWindow(d).options.webPreferences!.devTools, false)
    const mac = await startFakeDesktop(t, { platform: 'darwin' })
    const labels = JSON.stringify(mac.electron.applicationMenu?.template)
    assert.doesNotMatch(labels, /toggleDevTools|reload|forceReload/i)
    assert.match(labels, /"quit"/)
    const dev = await startFakeDesktop(t, { packaged: false })
    assert.equal(dev.electron.applicationMenu, undefined, 'development keeps the default menu')
  })

  it('a renderer that crashed is reloaded, at most 3 times a minute', async (t) => {
    const win = mainWindow(await startFakeDesktop(t))
    win.webContents.emit('render-process-gone', new FakeEvent(), { reason: 'clean-exit' })
    assert.equal(win.webContents.reloads, 0)
    for (let i = 0; i < 5; i++)
      win.webContents.emit('render-process-gone', new FakeEvent(), { reason: 'crashed' })
    assert.equal(win.webContents.reloads, 3)
  })
})
