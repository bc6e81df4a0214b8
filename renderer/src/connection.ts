/**
 * Finds the node this UI talks to. Inside Electron that is the preload bridge; in a plain browser
 * the headless daemon's WebSocket transport (added with the daemon) will be tried here too.
 */
import { createClient, type TandemClient } from '../../core/api/client'

export function connect(): TandemClient | null {
  const bridge = window.tandem
  if (!bridge) return null
  return createClient({ request: (method, params) => bridge.request(method, params) })
}
