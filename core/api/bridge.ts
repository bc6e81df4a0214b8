/**
 * The one object the Electron preload exposes to the renderer (as `window.tandem`), and the IPC
 * channel it uses. The renderer never sees ipcRenderer itself.
 */
import type { Outcome } from './contract.js'

export const API_CHANNEL = 'tandem:api'

export interface TandemBridge {
  readonly host: 'electron'
  request(method: string, params: unknown): Promise<Outcome<unknown>>
}
