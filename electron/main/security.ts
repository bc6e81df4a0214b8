/**
 * The Electron security checklist's main-process half, in one place so one test file can assert
 * each item (test/unit/electron/security-checklist.test.ts):
 *
 * - every window's web preferences: context isolation, the sandbox, no Node.js in the page or its
 *   frames and workers, web security on, no insecure content, no experimental or Blink features,
 *   no <webview>, devtools only in development;
 * - permission requests and checks denied, in the default session, for every permission: the UI
 *   needs none (no camera, notifications go through main, no geolocation…);
 * - for every web contents ever created (`web-contents-created`, so windows nobody planned for
 *   are covered too): navigation, redirects, <webview> attachment and new windows denied; a link
 *   opens in the user's browser only when it is on the allow-list;
 * - no default menu (it carries Reload and Toggle Developer Tools) in a packaged app.
 */
import type {
  AppLike,
  MenuClassLike,
  PermissionHandlerSession,
  PreventableEvent,
  ShellModuleLike,
  WebContentsLike,
  WebPreferencesLike,
} from './electron-like.js'

/** The preferences of every Tandem window; `devTools` follows whether the app is packaged. */
export function secureWebPreferences(opts: {
  preload?: string
  packaged: boolean
}): WebPreferencesLike {
  return {
    ...(opts.preload !== undefined ? { preload: opts.preload } : {}),
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools: !opts.packaged,
  }
}

/**
 * Web pages the UI may open in the user's browser: https only, on these hosts only. Anything else
 * (file:, smb:, a custom scheme that launches a program, another web site) is dropped.
 */
export const EXTERNAL_HOSTS: readonly string[] = ['github.com']

export function isAllowedExternal(raw: string): boolean {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  return (
    url.protocol === 'https:' &&
    url.username === '' &&
    url.password === '' &&
    url.port === '' &&
    EXTERNAL_HOSTS.includes(url.hostname)
  )
}

/** Every permission request is refused and every permission check answers no. */
export function denyAllPermissions(session: PermissionHandlerSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.setDevicePermissionHandler(() => false)
}

/**
 * Locks down every web contents the app creates. Call before the first window. In-page changes
 * of the address fragment (the UI's routing) are not navigations and still work.
 */
export function guardAllWebContents(app: AppLike, shell: ShellModuleLike): void {
  app.on('web-contents-created', (_event: unknown, contents: WebContentsLike) => {
    guardWebContents(contents, shell)
  })
}

export function guardWebContents(contents: WebContentsLike, shell: ShellModuleLike): void {
  const deny = (event: PreventableEvent) => event.preventDefault()
  contents.on('will-navigate', deny)
  contents.on('will-frame-navigate', deny)
  contents.on('will-redirect', deny)
  contents.on('will-attach-webview', deny)
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
}

/**
 * The application menu. Packaged: none on Windows and Linux (the window has no menu bar; Electron's
 * default one has Reload and Toggle Developer Tools), and on macOS, where an app always has a menu,
 * only About, Hide, Quit and the edit commands. Development keeps Electron's default menu.
 */
export function applyApplicationMenu(
  menu: MenuClassLike,
  opts: { packaged: boolean; platform: NodeJS.Platform },
): void {
  if (!opts.packaged) return
  if (opts.platform !== 'darwin') {
    menu.setApplicationMenu(null)
    return
  }
  menu.setApplicationMenu(
    menu.buildFromTemplate([
      { label: 'Tandem', submenu: [{ role: 'close' }, { role: 'minimize' }, { role: 'quit' }] },
      {
        label: 'Edit',
        submenu: [
          { role: 'undo' },
          { role: 'redo' },
          { type: 'separator' },
          { role: 'cut' },
          { role: 'copy' },
          { role: 'paste' },
          { role: 'selectAll' },
        ],
      },
    ]),
  )
}
