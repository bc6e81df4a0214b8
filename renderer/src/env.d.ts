import type { TandemBridge } from '../../core/api/bridge'

declare global {
  interface Window {
    /** Present only inside the Electron shell (set by the preload). */
    readonly tandem?: TandemBridge
  }
}
