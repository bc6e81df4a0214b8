/**
 * The one object the Electron preload exposes to the renderer (as `window.tandem`), and the IPC
 * channels it uses. The renderer never sees ipcRenderer itself.
 *
 * Requests go renderer → main on API_CHANNEL (invoke/handle, answered with an Outcome). Events go
 * main → renderer on EVENT_CHANNEL as EventEnvelopes, checked against the contract by main before
 * sending; the preload fans them out to `subscribe` listeners. `subscribe` returns its own
 * unsubscribe function because functions crossing Electron's contextBridge are proxied anew on
 * every crossing: an `unsubscribe(listener)` taking the same function back could never match it.
 */
import type { ApiEvent, Outcome } from './contract.js'

export const API_CHANNEL = 'tandem:api'
export const EVENT_CHANNEL = 'tandem:event'

export interface TandemBridge {
  readonly host: 'electron'
  request(method: string, params: unknown): Promise<Outcome<unknown>>
  /** Calls `listener` with every event the node pushes; returns a function that stops it. */
  subscribe(listener: (event: ApiEvent) => void): () => void
}
