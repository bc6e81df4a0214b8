/**
 * The app's one window: secure preferences (security.ts), the preload only for the UI that uses
 * it (ui-source.ts), close-to-tray, and a renderer that crashed or was killed is reloaded (at most
 * 3 times a minute, so a page that crashes at once does not spin).
 */
import type {
  BrowserWindowClassLike,
  BrowserWindowLike,
  PreventableEvent,
} from './electron-like.js'
import { secureWebPreferences } from './security.js'
import type { UiSource } from './ui-source.js'

export interface WindowOptions {
  source: UiSource
  preloadFile: string
  packaged: boolean
  icon?: string
  /** Start without showing (started at login: the tray is enough). */
  hidden: boolean
  /** Whether closing should hide the window to the tray instead (asked at each close). */
  closeToTray: () => boolean
  /** The page to load instead of source.url (a link's join page). */
  url?: string
  warn?: (line: string) => void
}

const RELOADS_PER_MINUTE = 3

export function createMainWindow(
  BrowserWindow: BrowserWindowClassLike,
  opts: WindowOptions,
): BrowserWindowLike {
  const win = new BrowserWindow({
    width: 1180,
    height: 780,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'Tandem',
    ...(opts.icon ? { icon: opts.icon } : {}),
    webPreferences: secureWebPreferences({
      packaged: opts.packaged,
      ...(opts.source.preload ? { preload: opts.preloadFile } : {}),
    }),
  })
  if (!opts.hidden) win.once('ready-to-show', () => win.show())
  win.on('close', (event: PreventableEvent) => {
    if (!opts.closeToTray()) return
    event.preventDefault()
    win.hide()
  })
  const reloads: number[] = []
  win.webContents.on(
    'render-process-gone',
    (_event: unknown, details: { reason: string; exitCode?: number }) => {
      if (details.reason === 'clean-exit' || win.isDestroyed()) return
      const now = Date.now()
      while (reloads.length && now - reloads[0]! > 60_000) reloads.shift()
      if (reloads.length >= RELOADS_PER_MINUTE) {
        opts.warn?.(`tandem: the window's page keeps crashing (${details.reason}); not reloading`)
        return
      }
      reloads.push(now)
      opts.warn?.(`tandem: the window's page stopped (${details.reason}); reloading`)
      win.webContents.reload()
    },
  )
  const url = opts.url ?? opts.source.url
  win
    .loadURL(url)
    .catch((err: unknown) => opts.warn?.(`tandem: could not load ${url}: ${String(err)}`))
  return win
}

/** Shows the window, restoring it if it was minimized. */
export function reveal(win: BrowserWindowLike): void {
  if (win.isMinimized()) win.restore()
  win.show()
  win.focus()
}
