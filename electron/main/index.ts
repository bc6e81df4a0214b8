/**
 * Electron main process entry: hands the real `electron` module to the desktop app (desktop.ts),
 * which the tests drive with a fake one. Everything else lives in the modules it composes.
 */
import * as electron from 'electron'
import psList from 'ps-list'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ElectronLike } from './electron-like.js'
import { startDesktop } from './desktop.js'
import type { UpdaterLike } from './updates.js'

const here = fileURLToPath(new URL('.', import.meta.url))
// With Electron's own types installed this assignment is where the typecheck proves the real API
// fits the slice the shell was written (and tested) against.
const api: ElectronLike = electron

startDesktop({
  electron: api,
  argv: process.argv,
  env: process.env,
  platform: process.platform,
  files: {
    renderer: join(here, '../renderer'),
    preload: join(here, '../preload/index.cjs'),
    nodeEntry: join(here, 'node.js'),
    trayIcon: join(here, '../icons/tray.png'),
    windowIcon: join(here, '../icons/window.png'),
  },
  listProcesses: () => psList(),
  updater: async () => {
    // electron-updater reads app-update.yml, which only a packaged app has.
    const mod = (await import('electron-updater')) as unknown as {
      default?: { autoUpdater: UpdaterLike }
      autoUpdater?: UpdaterLike
    }
    return mod.autoUpdater ?? mod.default?.autoUpdater ?? null
  },
  ...(typeof process.getuid === 'function' ? { uid: process.getuid() } : {}),
})
