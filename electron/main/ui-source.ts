/**
 * Which page the window shows, and which page IPC trusts:
 *
 * - the app: the built UI on app://tandem/index.html (app-protocol.ts), with the preload bridge;
 * - development (`npm run dev`): electron-vite's dev server, ELECTRON_RENDERER_URL;
 * - `tandem demo`: the demo node's own UI on its loopback daemon, TANDEM_UI_URL, WITHOUT the
 *   preload: that page talks to its daemon over the WebSocket with the token in its URL, as in a
 *   browser (with the preload it would use IPC, which nothing answers in that mode).
 *
 * The two environment variables are honoured only when the app is not packaged: an installed app
 * always shows its own UI, whatever the environment says (security checklist).
 */
import { APP_INDEX_URL } from './app-protocol.js'

export type UiSource =
  | { kind: 'app'; url: string; preload: true }
  | { kind: 'dev'; url: string; preload: true }
  | { kind: 'demo'; url: string; preload: false }

const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\//

export function uiSource(opts: {
  packaged: boolean
  env: Record<string, string | undefined>
}): UiSource {
  if (!opts.packaged) {
    const demo = opts.env['TANDEM_UI_URL']
    if (demo && /^http:\/\/127\.0\.0\.1:\d{1,5}\//.test(demo)) {
      return { kind: 'demo', url: demo, preload: false }
    }
    const dev = opts.env['ELECTRON_RENDERER_URL']
    if (dev && LOOPBACK_HTTP.test(dev)) return { kind: 'dev', url: dev, preload: true }
  }
  return { kind: 'app', url: APP_INDEX_URL, preload: true }
}
