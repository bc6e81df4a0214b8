/**
 * The checks every request to the local API passes, HTTP and WebSocket alike. The server listens
 * on 127.0.0.1 only, but any web page the user opens can still send requests there, so:
 * - Host must name the loopback address and our port (`127.0.0.1:<port>` or `localhost:<port>`).
 *   A DNS-rebinding page reaches us under its own host name and is refused before anything else.
 * - Origin, when a browser sends one, must be our own origin (`http://<Host>`): another page's
 *   fetch, form post or WebSocket is refused even before the token is looked at.
 * - Fetch Metadata (`Sec-Fetch-Site`, which browsers send to 127.0.0.1 and localhost as to any
 *   secure context): `same-origin` and `none` (the user typed the URL, opened a bookmark, or a
 *   program opened it) pass, and so does no header at all (the CLI, curl: not a browser). A
 *   `cross-site` or `same-site` request is refused with 403 on every path, health and static files
 *   included: a no-cors `<img>`, `<script>` or `fetch()` sends no Origin, so without this any page
 *   could scan loopback ports for a daemon. `same-site` matters because another port of 127.0.0.1
 *   (any local dev server) is the same site as we are.
 *   One exception, decided on purpose: a top-level navigation the user made (`Sec-Fetch-Mode:
 *   navigate`, `Sec-Fetch-Dest: document`, `Sec-Fetch-User: ?1`, GET/HEAD) to a UI page (not
 *   /api/) passes, so clicking a link to the UI on another site (a wiki, a chat) still opens it.
 *   That page is shown to the user, never to the linking site (no CORS; framing is refused by
 *   `frame-ancestors 'none'` and X-Frame-Options, and iframes have `Sec-Fetch-Dest: iframe`), and
 *   a script cannot fake the user activation, so it gives a page no port-scanning oracle.
 * - Every response carries `Cross-Origin-Resource-Policy: same-origin` (api-server.ts), so even a
 *   refusal cannot be embedded by another origin: a no-cors fetch of any of our URLs fails exactly
 *   as it does for a closed port.
 * - The API needs the per-start token, compared in constant time. The UI page gets it in the URL
 *   fragment (`#token=…`), which browsers never send to a server and never put in a Referer.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const TOKEN_BYTES = 32

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex')
}

/**
 * Constant-time equality of a presented token and the real one. Both are hashed first so the
 * comparison takes the same time whatever the presented length.
 */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string') return false
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`]
}

export type Refusal =
  | { status: 421; code: 'FORBIDDEN_HOST'; message: string }
  | { status: 403; code: 'FORBIDDEN_ORIGIN'; message: string }
  | { status: 403; code: 'FORBIDDEN_SITE'; message: string }
  | { status: 401; code: 'UNAUTHORIZED'; message: string }

/** Host and Origin: null when the request may proceed to routing. */
export function checkHostAndOrigin(req: IncomingMessage, port: number): Refusal | null {
  const host = req.headers.host?.toLowerCase()
  if (host === undefined || !allowedHosts(port).includes(host)) {
    return {
      status: 421,
      code: 'FORBIDDEN_HOST',
      message: `Host must be 127.0.0.1:${port} or localhost:${port}`,
    }
  }
  const origin = req.headers.origin
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) {
    return { status: 403, code: 'FORBIDDEN_ORIGIN', message: 'cross-origin requests are refused' }
  }
  return null
}

/** Sec-Fetch-Site values that pass: our own pages, and requests no page started. */
const TRUSTED_SITES = new Set(['same-origin', 'none'])

/**
 * Fetch Metadata (see the file comment): null when the request may proceed. `pathname` decides
 * whether a user's top-level navigation may pass (UI pages only, never /api/).
 */
export function checkFetchSite(req: IncomingMessage, pathname: string): Refusal | null {
  const site = single(req.headers['sec-fetch-site'])
  if (site === undefined || TRUSTED_SITES.has(site.toLowerCase())) return null
  if (userNavigation(req) && !pathname.startsWith('/api/')) return null
  return {
    status: 403,
    code: 'FORBIDDEN_SITE',
    message: `requests started by another site (${site}) are refused`,
  }
}

function userNavigation(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    single(req.headers['sec-fetch-mode'])?.toLowerCase() === 'navigate' &&
    single(req.headers['sec-fetch-dest'])?.toLowerCase() === 'document' &&
    single(req.headers['sec-fetch-user']) === '?1'
  )
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}

/** `Authorization: Bearer <token>`. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization
  if (!header) return null
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match ? match[1]! : null
}
