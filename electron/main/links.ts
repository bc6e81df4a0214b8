/**
 * `tandem://project/<key>` links. The OS hands them to the app three ways: in the command line of
 * a cold start (Windows, Linux), in the command line a second instance passes on
 * (`second-instance`), and on macOS through `open-url`. Each becomes the UI's join page for that
 * project (#/projects/join/<key>), which asks the person to confirm: a link never joins a project
 * by itself.
 *
 * The scheme is registered with the OS by the installers (electron-builder's `protocols`) and at
 * run time (`app.setAsDefaultProtocolClient`), so a portable AppImage or a development run handles
 * links too.
 */
import type { AppLike } from './electron-like.js'

export const LINK_SCHEME = 'tandem'

/** The project key a tandem:// link names; null for anything else. */
export function projectKeyFromLink(raw: string): string | null {
  const m = /^tandem:\/\/project\/([0-9a-fA-F]{64})\/?(?:[?#].*)?$/.exec(raw.trim())
  return m ? m[1]!.toLowerCase() : null
}

/** The project key of the first tandem:// link in a command line. */
export function projectKeyFromArgv(argv: readonly string[]): string | null {
  for (const arg of argv) {
    if (!arg.toLowerCase().startsWith(`${LINK_SCHEME}://`)) continue
    const key = projectKeyFromLink(arg)
    if (key) return key
  }
  return null
}

/** The UI's address that shows the join confirmation for `key`, on the page `uiUrl` loads. */
export function joinPageUrl(uiUrl: string, key: string): string {
  const url = new URL(uiUrl)
  url.hash = `#/projects/join/${key}`
  return url.href
}

/**
 * Registers tandem:// with the OS at run time. A development run (electron .) registers the
 * Electron binary with the app's folder as its argument, as Electron documents.
 */
export function registerLinkScheme(
  app: AppLike,
  opts: { packaged: boolean; execPath: string; appDir: string },
): boolean {
  if (opts.packaged) return app.setAsDefaultProtocolClient(LINK_SCHEME)
  return app.setAsDefaultProtocolClient(LINK_SCHEME, opts.execPath, [opts.appDir])
}

/**
 * Routes links to the window: links that arrive before the window exists wait for it (only the
 * last one is kept: a second click wins).
 */
export class LinkRouter {
  private pending: string | null = null
  private show: ((key: string) => void) | null = null

  /** A link arrived (argv or open-url); returns whether it was a project link. */
  receive(raw: string | readonly string[]): boolean {
    const key = typeof raw === 'string' ? projectKeyFromLink(raw) : projectKeyFromArgv(raw)
    if (!key) return false
    if (this.show) this.show(key)
    else this.pending = key
    return true
  }

  /** The window is there: from now on links go to `show`, starting with one that waited. */
  attach(show: (key: string) => void): void {
    this.show = show
    const key = this.pending
    this.pending = null
    if (key) show(key)
  }

  /** A link that waits for the window (the cold start opens the window on it). */
  takePending(): string | null {
    const key = this.pending
    this.pending = null
    return key
  }
}
