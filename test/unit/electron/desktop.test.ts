/**
 * The desktop app's main process on a fake `electron`: the window (close-to-tray, start hidden),
 * calls answered by main or forwarded to the node's utility process, the node restarted after a
 * crash with the UI told, notifications off until chosen, start-at-login, quitting within the
 * node's stop deadline, and the `tandem demo` window.
 */
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { API_CHANNEL, EVENT_CHANNEL } from '../../../core/api/bridge.js'
import { APP_INDEX_URL } from '../../../electron/main/app-protocol.js'
import { autostartFile, desktopEntry } from '../../../electron/main/autostart.js'
import {
  FakeNotification,
  menuItem,
  type FakeTray,
  type FakeWindow,
} from '../../support/fake-electron.js'
import { NODE_KEY, ScriptedNode, startFakeDesktop } from '../../support/fake-desktop.js'
import { waitUntil } from '../../support/wait.js'

const call = (d: Awaited<ReturnType<typeof startFakeDesktop>>, method: string, params = {}) =>
  d.electron.ipcMain.invoke(API_CHANNEL, APP_INDEX_URL, { id: 1, method, params }) as Promise<{
    ok: boolean
    value?: Record<string, unknown>
    code?: string
  }>

describe('desktop app (main process)', () => {
  it('runs the node in a utility process; main answers app.info and forwards the rest', async (t) => {
    const d = await startFakeDesktop(t)
    assert.equal(d.forks.length, 1)
    assert.match(d.forks[0]!.modulePath, /main[/\\]node\.js$/)
    const info = await call(d, 'app.info')
    assert.equal(info.value?.['host'], 'electron')
    const status = await call(d, 'node.status')
    assert.equal(status.value?.['key'], NODE_KEY)
    const bad = await call(d, 'node.pause', { mode: 'sometime' })
    assert.equal(bad.code, 'BAD_ARGUMENT', "validated by the node's dispatcher")
  })

  it('closing the window keeps Tandem in the tray; Open brings it back', async (t) => {
    const d = await startFakeDesktop(t)
    const win = d.desktop.window() as FakeWindow
    win.emit('ready-to-show')
    assert.equal(win.visible, true)
    assert.equal(win.userClose(), false, 'the window is hidden, not closed')
    assert.equal(win.visible, false)
    assert.equal(d.desktop.supervisor()!.state.state, 'running', 'the node keeps training')
    const tray = (d.electron.Tray as typeof FakeTray).all[0]!
    menuItem(tray.menu!.template, 'Open Tandem').click!()
    assert.equal(win.visible, true)
    await d.quit()
    assert.equal(win.userClose(), true, 'while quitting the window really closes')
  })

  it('started at login (--hidden): the window stays hidden until opened', async (t) => {
    const d = await startFakeDesktop(t, { argv: ['/opt/Tandem/tandem', '--hidden'] })
    const win = d.desktop.window() as FakeWindow
    win.emit('ready-to-show')
    assert.equal(win.visible, false)
    ;(d.electron.Tray as typeof FakeTray).all[0]!.emit('click')
    assert.equal(win.visible, true)
  })

  it('"start at login" writes and removes the XDG autostart entry on Linux', async (t) => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const xdg = await mkdtemp(join(tmpdir(), 'tandem-xdg-'))
    t.after(() => rm(xdg, { recursive: true, force: true }))
    const d2 = await startFakeDesktop(t, {
      env: { XDG_CONFIG_HOME: xdg, APPIMAGE: '/home/me/Tandem 1.AppImage' },
    })
    const file = autostartFile({ home: '/unused', xdgConfigHome: xdg })
    await call(d2, 'settings.set', { startAtLogin: true })
    await waitUntil(() => d2.node().settings.startAtLogin, 'the setting')
    await waitForFile(file, true)
    const entry = await readFile(file, 'utf8')
    assert.equal(entry, desktopEntry('/home/me/Tandem 1.AppImage'))
    assert.match(entry, /^Exec="\/home\/me\/Tandem 1\.AppImage" --hidden$/m)
    await call(d2, 'settings.set', { startAtLogin: false })
    await waitForFile(file, false)
  })

  it('"start at login" is a hidden login item on Windows and macOS', async (t) => {
    const win = await startFakeDesktop(t, { platform: 'win32' })
    await waitUntil(() => win.electron.app.loginItems.length > 0, 'the login item')
    assert.deepEqual(win.electron.app.loginItems.at(-1), { openAtLogin: false, args: ['--hidden'] })
    await call(win, 'settings.set', { startAtLogin: true })
    await waitUntil(() => win.electron.app.loginItems.at(-1)?.openAtLogin === true, 'on')
    const mac = await startFakeDesktop(t, { platform: 'darwin' })
    await waitUntil(() => mac.electron.app.loginItems.length > 0, 'the login item')
    assert.deepEqual(mac.electron.app.loginItems.at(-1), { openAtLogin: false, openAsHidden: true })
  })

  it('a crashed node is restarted, and the window and (when chosen) a notification say so', async (t) => {
    const first = new ScriptedNode()
    const second = new ScriptedNode()
    const d = await startFakeDesktop(t, { nodes: [first, second] })
    const win = d.desktop.window() as FakeWindow
    win.webContents.url = APP_INDEX_URL
    const tray = (d.electron.Tray as typeof FakeTray).all[0]!
    menuItem(tray.menu!.template, 'When the node stops working').click!()
    await waitUntil(() => d.desktop.prefs()!.get().notify.problem, 'the preference')
    d.forks[0]!.exitWith(139)
    await waitUntil(() => d.desktop.supervisor()!.state.state === 'restarting', 'the crash')
    const told = win.webContents.sent.find(
      ([channel, [e]]) => channel === EVENT_CHANNEL && (e as { event: string }).event === 'log',
    )
    assert.match(
      JSON.stringify(told),
      /the node stopped: it exited unexpectedly \(code 139\); restarting in 1 s/,
    )
    assert.match(tray.toolTip, /restarting in 1 s/)
    assert.equal(FakeNotification.shown.length, 1)
    assert.equal(FakeNotification.shown[0]!.title, 'Tandem stopped working')
    await waitUntil(() => d.desktop.supervisor()!.state.state === 'running', 'the restart', 5000)
    assert.equal(d.forks.length, 2)
    assert.equal((await call(d, 'node.status')).ok, true)
    assert.equal(d.node(), second)
  })

  it('notifications are off by default; a rejected contribution notifies once chosen', async (t) => {
    const d = await startFakeDesktop(t)
    const receipt = {
      project: NODE_KEY,
      projectName: 'test',
      round: 4,
      closedAt: 1,
      updateHash: NODE_KEY,
      accepted: false,
      reason: 'update too far from the median',
      samples: 10,
      quality: 0,
      credits: 0,
      lossBefore: null,
      lossAfter: null,
    }
    const push = () => d.node().emit('event', { event: 'receipt', data: receipt })
    push()
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(FakeNotification.shown.length, 0, 'off by default')
    const tray = (d.electron.Tray as typeof FakeTray).all[0]!
    menuItem(tray.menu!.template, 'When a contribution is rejected').click!()
    push()
    await waitUntil(() => FakeNotification.shown.length === 1, 'the notification')
    assert.deepEqual(FakeNotification.shown[0], {
      title: 'Tandem: a contribution was rejected',
      body: 'Round 4: update too far from the median',
    })
    const saved = JSON.parse(await readFile(join(d.dir, 'userData', 'desktop.json'), 'utf8'))
    assert.equal(saved.notify.rejected, true)
  })

  it('quitting stops the node cleanly, then quits', async (t) => {
    const d = await startFakeDesktop(t)
    const quits = d.electron.app.quits
    await d.quit()
    assert.equal(d.node().closed, true)
    assert.deepEqual(d.desktop.supervisor()!.state, { state: 'stopped', restarts: 0, how: 'clean' })
    assert.equal(d.forks[0]!.killed, false)
    await waitUntil(() => d.electron.app.quits === quits + 2, 'the second quit that goes through')
  })

  it('a node that does not stop within the deadline is killed', async (t) => {
    const stuck = new ScriptedNode()
    stuck.hangOnClose = true
    const d = await startFakeDesktop(t, { nodes: [stuck], stopDeadlineMs: 150 })
    const t0 = Date.now()
    await d.quit()
    assert.ok(Date.now() - t0 < 1000)
    assert.equal(d.forks[0]!.killed, true)
    assert.equal(d.desktop.supervisor()!.state.state, 'stopped')
  })

  it("tandem demo: the window shows the demo node's UI over its WebSocket, with no preload and no node here", async (t) => {
    const url = 'http://127.0.0.1:4321/#token=abcdef'
    const d = await startFakeDesktop(t, { packaged: false, env: { TANDEM_UI_URL: url } })
    const win = d.desktop.window() as FakeWindow
    assert.deepEqual(win.loaded, [url])
    assert.equal(win.options.webPreferences!.preload, undefined, 'the page uses its WebSocket')
    assert.equal(d.forks.length, 0, 'no second node')
    assert.equal(d.desktop.tray(), null)
    // Closing the demo window ends this app.
    const quits = d.electron.app.quits
    win.userClose()
    d.electron.app.emit('window-all-closed')
    assert.equal(d.electron.app.quits, quits + 1)
  })

  it('a second instance hands over and quits', async (t) => {
    const d = await startFakeDesktop(t)
    void d
    const { FakeElectron } = await import('../../support/fake-electron.js')
    const { startDesktop } = await import('../../../electron/main/desktop.js')
    const other = new FakeElectron({ userData: '/x', appPath: '/x' })
    other.app.singleInstance = false
    const started = startDesktop({
      electron: other,
      argv: [],
      env: {},
      platform: 'linux',
      files: { renderer: '/x', preload: '/x', nodeEntry: '/x', trayIcon: '/x' },
      listProcesses: () => Promise.resolve([]),
    })
    assert.equal(started, null)
    assert.equal(other.app.quits, 1)
  })
})

async function waitForFile(file: string, exists: boolean): Promise<void> {
  const deadline = Date.now() + 5000
  for (;;) {
    const there = await stat(file).then(
      () => true,
      () => false,
    )
    if (there === exists) return
    if (Date.now() > deadline) throw new Error(`${file} ${exists ? 'never appeared' : 'stayed'}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
