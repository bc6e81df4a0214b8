/**
 * The checks every request to the local API passes, HTTP and WebSocket alike. The server listens
 * on 127.0.0.1 only, but any web page the user opens can still send requests there, so:
 * - Host must name the loopback address and our port (`127.0.0.1:<port>` or `localhost:<port>`).
 *   A DNS-rebinding page reaches us under its own host name and is refused before anything else.
 * - Origin, when a browser sends one, must be our own origin (`http://<Host>`): another page's
 *   fetch, form post or WebSocket is refused even before the token is looked at.
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

/** `Authorization: Bearer <token>`. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization
  if (!header) return null
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match ? match[1]! : null
}
