/**
 * Builds `window.tandem` from the slice of ipcRenderer it needs, so tests can drive it with a
 * fake (the Electron binary cannot run on CI machines). One IPC listener per page feeds an event
 * hub; `subscribe` adds to the hub, never to ipcRenderer, so a page cannot pile up IPC listeners
 * or see the IPC event object (which carries the sender).
 */
import { API_CHANNEL, EVENT_CHANNEL, type TandemBridge } from '../../core/api/bridge.js'
import type { Outcome } from '../../core/api/contract.js'
import { createEventHub, isEventEnvelope } from '../../core/api/event-hub.js'

/** The slice of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

export function createBridge(ipc: IpcRendererLike): TandemBridge {
  let nextId = 0
  // Main checked every event against the contract before sending; zod cannot load in a
  // sandboxed preload, so only the envelope's shape is checked again here.
  const hub = createEventHub({ validate: isEventEnvelope })
  ipc.on(EVENT_CHANNEL, (_event, envelope) => void hub.emit(envelope))
  return Object.freeze({
    host: 'electron' as const,
    request: (method: string, params: unknown) =>
      ipc.invoke(API_CHANNEL, { id: nextId++, method, params }) as Promise<Outcome<unknown>>,
    subscribe: (listener: Parameters<TandemBridge['subscribe']>[0]) => hub.subscribe(listener),
  })
}
