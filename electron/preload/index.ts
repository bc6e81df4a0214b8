/**
 * Preload: exposes exactly one frozen object, `window.tandem`, built from the contract. The renderer
 * never gets ipcRenderer, so a compromised page can only make contract calls, which main validates.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { API_CHANNEL, type TandemBridge } from '../../core/api/bridge.js'
import type { Outcome } from '../../core/api/contract.js'

let nextId = 0

const bridge: TandemBridge = Object.freeze({
  host: 'electron' as const,
  request: (method: string, params: unknown) =>
    ipcRenderer.invoke(API_CHANNEL, { id: nextId++, method, params }) as Promise<Outcome<unknown>>,
})

contextBridge.exposeInMainWorld('tandem', bridge)
