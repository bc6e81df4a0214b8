/**
 * Preload: exposes exactly one frozen object, `window.tandem`, built from the contract. The renderer
 * never gets ipcRenderer, so a compromised page can only make contract calls, which main validates,
 * and listen to the events main pushes.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { createBridge } from './bridge.js'

contextBridge.exposeInMainWorld('tandem', createBridge(ipcRenderer))
