/**
 * The UI is served from a custom, privileged `app://tandem/` scheme instead of `file://` (Electron
 * security checklist: "avoid file://"): a page on file:// may read any other local file the
 * process can, and every file:// page shares one origin. app://tandem is a standard, secure origin
 * of its own that serves only the files under the renderer's build folder, each response with the
 * app's Content-Security-Policy header.
 */
import { readFile } from 'node:fs/promises'
import { extname, resolve, sep } from 'node:path'
import type { CustomSchemeLike, ProtocolLike } from './electron-like.js'

export const APP_SCHEME = 'app'
export const APP_HOST = 'tandem'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`

/**
 * The policy every app:// response carries (the page's own meta tag also applies; the stricter of
 * the two wins). Scripts and styles only from the app itself, no plugins, no framing, no form
 * posts, no network but the app's own origin: the Electron UI talks to the node over IPC.
 */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ')

/** standard + secure: a real origin for the page, treated like https (no mixed-content rules). */
export const APP_SCHEME_PRIVILEGES: CustomSchemeLike = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
}

/** Must run before the app's `ready` event (Electron's rule for privileged schemes). */
export function registerAppScheme(protocol: ProtocolLike): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES])
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
}

/** Serves `root` (the renderer build) on app://tandem/. */
export function serveApp(protocol: ProtocolLike, root: string): void {
  protocol.handle(APP_SCHEME, (request) => appResponse(root, request))
}

/**
 * One app:// response: the file under `root` the URL names, or 404. A path that would leave
 * `root` (`..`, encoded or not) and any host but app://tandem get 404 too; only GET and HEAD.
 */
export async function appResponse(root: string, request: Request): Promise<Response> {
  const base = resolve(root)
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'method not allowed')
  let url: URL
  try {
    url = new URL(request.url)
  } catch {
    return plain(404, 'not found')
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return plain(404, 'not found')
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    return plain(404, 'not found')
  }
  if (path === '/' || path === '') path = '/index.html'
  const file = resolve(base, `.${path}`)
  if (path.includes('\0') || !file.startsWith(base + sep)) return plain(404, 'not found')
  let body: Buffer
  try {
    body = await readFile(file)
  } catch {
    return plain(404, 'not found')
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-security-policy': APP_CSP,
      'x-content-type-options': 'nosniff',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    },
  })
}

function plain(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'content-security-policy': APP_CSP },
  })
}
