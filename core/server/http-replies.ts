/**
 * How the local API writes its HTTP answers and reads request bodies: coded JSON Outcomes, the
 * headers every response carries (refusals and WebSocket refusals included, see security.ts), a
 * bounded body reader, and the plain HTTP answer written on a socket whose upgrade is refused.
 * Routing is api-server.ts; docs/node.md ("HTTP + WebSocket") has the long story.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Outcome } from '../api/contract.js'

/** On every response, refusals and WebSocket refusals included (see security.ts). */
export const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
}

export function fail(code: string, message: string): Outcome<never> {
  return { ok: false, code, message }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

export function notAllowed(res: ServerResponse, allow: string): void {
  sendJson(res, 405, fail('METHOD_NOT_ALLOWED', `method not allowed (use ${allow})`), { allow })
}

export type Body = { kind: 'ok'; text: string } | { kind: 'too-large' }

/** Reads the request body up to `max` bytes; beyond that, stops reading (the caller answers 413). */
export function readBody(req: IncomingMessage, max: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > max) {
    req.resume()
    return Promise.resolve({ kind: 'too-large' })
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        req.removeAllListeners('data')
        req.resume()
        resolve({ kind: 'too-large' })
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve({ kind: 'ok', text: Buffer.concat(chunks).toString('utf8') }))
    req.on('error', reject)
  })
}

/** A refused WebSocket upgrade gets a plain HTTP answer, written on the raw socket. */
export function rawRefusal(status: number, code: string, message: string): string {
  const body = JSON.stringify(fail(code, message))
  const common = Object.entries(COMMON_HEADERS)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')
  return (
    `HTTP/1.1 ${status} ${statusText(status)}\r\n` +
    common +
    'content-type: application/json\r\nconnection: close\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
}

function statusText(status: number): string {
  return (
    { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 421: 'Misdirected Request' }[
      status
    ] ?? 'Error'
  )
}
