/**
 * The main-process end of the local API over IPC. Every call is checked twice: the sender must be
 * our own renderer page (not a navigated-away or injected frame), and the payload goes through the
 * contract's dispatcher, which validates params and results. Pushed events are checked against the
 * contract here, before they go out, because the sandboxed preload cannot run zod itself.
 */
import { API_CHANNEL, EVENT_CHANNEL } from '../../core/api/bridge.js'
import { parseEvent, type ApiEvent, type Outcome } from '../../core/api/contract.js'
import { dispatch, type Handlers } from '../../core/api/dispatch.js'

/** The slice of Electron's ipcMain this module needs; a fake satisfies it in tests. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown,
  ): void
  removeHandler(channel: string): void
}

/**
 * A sender is trusted when its frame shows our renderer: the packaged index.html (any hash or query)
 * or, in development, a page of the Vite dev server's origin.
 */
export function rendererUrlCheck(
  rendererFileUrl: string,
  devServerUrl?: string,
): (url: string) => boolean {
  const file = new URL(rendererFileUrl)
  const devOrigin = devServerUrl ? new URL(devServerUrl).origin : undefined
  return (raw) => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return false
    }
    if (devOrigin !== undefined) return url.origin === devOrigin
    return url.protocol === 'file:' && url.pathname === file.pathname
  }
}

export function registerApi(
  ipcMain: IpcMainLike,
  handlers: Partial<Handlers>,
  isTrustedUrl: (url: string) => boolean,
): () => void {
  ipcMain.handle(API_CHANNEL, async (event, raw): Promise<Outcome<unknown>> => {
    const url = event.senderFrame?.url
    if (url === undefined || !isTrustedUrl(url)) {
      return {
        ok: false,
        code: 'UNTRUSTED_SENDER',
        message: 'IPC from a frame that is not the Tandem UI',
      }
    }
    return dispatch(handlers, raw)
  })
  return () => ipcMain.removeHandler(API_CHANNEL)
}

/** The slice of Electron's WebContents that events are sent to; a fake satisfies it in tests. */
export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void
  isDestroyed(): boolean
  getURL(): string
}

/**
 * Sends one event to every live window that shows our renderer. Returns false, sending nothing,
 * when the event does not match the contract.
 */
export function pushEvent(
  targets: readonly WebContentsLike[],
  event: ApiEvent | { event: string; data: unknown },
  isTrustedUrl: (url: string) => boolean,
): boolean {
  const checked = parseEvent(event)
  if (checked === null) return false
  for (const target of targets) {
    // A window that navigated elsewhere (it should not be able to) gets nothing.
    if (target.isDestroyed() || !isTrustedUrl(target.getURL())) continue
    target.send(EVENT_CHANNEL, checked)
  }
  return true
}
