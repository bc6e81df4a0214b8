/**
 * Electron main process: a thin shell. It owns the window, runs the contributor node (node-host.ts)
 * and forwards the local API to the node's handlers over IPC; training runs in the engine's worker
 * threads, never on this thread.
 */
import { app, BrowserWindow, ipcMain, powerMonitor, shell } from 'electron'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseEvent } from '../../core/api/contract.js'
import type { Handlers } from '../../core/api/dispatch.js'
import { createEventHub } from '../../core/api/event-hub.js'
import { pushEvent, registerApi, rendererUrlCheck } from './ipc.js'
import { startNodeHost, type NodeHost } from './node-host.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const rendererFile = join(here, '../renderer/index.html')
const preloadFile = join(here, '../preload/index.cjs')
const devServerUrl = process.env['ELECTRON_RENDERER_URL']
/**
 * `tandem demo` opens this window on its own node's UI (the daemon's loopback URL with its token)
 * instead of starting a second node here.
 */
const externalUi = /^http:\/\/127\.0\.0\.1:\d+\//.test(process.env['TANDEM_UI_URL'] ?? '')
  ? process.env['TANDEM_UI_URL']!
  : null

const isTrustedUrl = rendererUrlCheck(pathToFileURL(rendererFile).href, devServerUrl)

/**
 * Events for the UI: whatever the node reports goes through this hub (emit) and out to every
 * window over IPC. The node itself is attached here when it runs in the shell.
 */
const events = createEventHub({ validate: parseEvent })
events.subscribe((event) =>
  pushEvent(
    BrowserWindow.getAllWindows().map((w) => w.webContents),
    event,
    isTrustedUrl,
  ),
)

let nodeHost: NodeHost | null = null

const handlers: Partial<Handlers> = {
  'app.info': () => ({
    name: 'tandem',
    version: app.getVersion(),
    host: 'electron',
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
  }),
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1180,
    height: 780,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'Tandem',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  })
  win.once('ready-to-show', () => win.show())
  // The UI never opens windows or navigates away; links to the web go to the user's browser.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (event) => event.preventDefault())
  if (externalUi) void win.loadURL(externalUi)
  else if (devServerUrl) void win.loadURL(devServerUrl)
  else void win.loadFile(rendererFile)
  return win
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows()
    if (win) {
      if (win.isMinimized()) win.restore()
      win.focus()
    }
  })
  void app.whenReady().then(async () => {
    if (externalUi) {
      createWindow()
      return
    }
    try {
      nodeHost = await startNodeHost(
        {
          appPath: app.getAppPath(),
          userData: app.getPath('userData'),
          ...(process.env['TANDEM_BOOTSTRAP']
            ? { bootstrap: process.env['TANDEM_BOOTSTRAP'].split(',') }
            : {}),
          systemIdleSeconds: () => powerMonitor.getSystemIdleTime(),
          onBattery: () => powerMonitor.isOnBatteryPower(),
          onPowerChange: (listener) => {
            powerMonitor.on('on-battery', listener)
            powerMonitor.on('on-ac', listener)
          },
          setOpenAtLogin: (openAtLogin) => app.setLoginItemSettings({ openAtLogin }),
        },
        (event) => events.emit(event),
      )
      Object.assign(handlers, nodeHost.handlers, { 'app.info': handlers['app.info'] })
    } catch (err) {
      // The window still opens and says "No node"; the reason goes to the terminal.
      process.stderr.write(`tandem: the node did not start: ${String(err)}\n`)
    }
    registerApi(ipcMain, handlers, isTrustedUrl)
    createWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow()
    })
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  // Stop the node (flush state, leave the swarm) before quitting; a second quit goes through.
  let quitting = false
  app.on('before-quit', (event) => {
    if (quitting || !nodeHost) return
    quitting = true
    event.preventDefault()
    void nodeHost.close().finally(() => app.quit())
  })
}
