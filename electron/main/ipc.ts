/**
 * The main-process end of the local API over IPC. Every call is checked twice: the sender must be
 * our own renderer page (not a navigated-away or injected frame), and the payload goes through the
 * contract's dispatcher, which validates params and results. Pushed events are checked against the
 * contract here, before they go out, because the sandboxed preload cannot run zod itself.
 */
import { API_CHANNEL, EVENT_CHANNEL } from '../../core/api/bridge.js'
import { parseEvent, type ApiEvent, type Outcome } from '../../core/api/contract.js'
import { dispatch, type Handlers } from '../../core/api/dispatch.js'
import type { IpcMainLike } from './electron-like.js'

/** The slice of Electron's ipcMain this module needs; a fake satisfies it in tests. */
export type { IpcMainLike } from './electron-like.js'

/**
 * A sender is trusted when its frame shows the UI the window loaded (ui-source.ts): the same
 * scheme, the same host and port, and the same path; the fragment (the UI's page) and the query
 * may differ. Comparing the host matters: any app:// or http://127.0.0.1 page is not ours.
 */
export function uiUrlCheck(uiUrl: string): (url: string) => boolean {
  const ui = new URL(uiUrl)
  return (raw) => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return false
    }
    return url.protocol === ui.protocol && url.host === ui.host && url.pathname === ui.pathname
  }
}

/** What answers a checked request: the node's handlers, here or across the utility process. */
export type Answer = (raw: unknown) => Promise<Outcome<unknown>>

/** An Answer from local handlers (the contract's dispatcher). */
export function answerWith(handlers: Partial<Handlers>): Answer {
  return (raw) => dispatch(handlers, raw)
}

export function registerApi(
  ipcMain: IpcMainLike,
  answer: Answer,
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
    return answer(raw)
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
