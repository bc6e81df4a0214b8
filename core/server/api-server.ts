/**
 * The headless daemon's local API: HTTP and WebSocket on 127.0.0.1, carrying the same contract
 * as Electron's IPC (core/api/contract.ts) through the same dispatcher.
 *
 *   GET  /api/health             unauthenticated, says only that a Tandem node is here
 *   POST /api/<method>           Authorization: Bearer <token>; body = params (JSON) → Outcome
 *   GET  /api/ws?token=<token>   WebSocket: RequestEnvelope in, {id, outcome} out, and
 *                                {event, data} pushed (each checked against the contract)
 *   POST /api/server/rotate-token  bearer; replaces the token (daemon.json rewritten first), the
 *                                old one is refused from then on and its WebSockets are closed
 *   GET  anything else           the built UI, index.html for client-side routes
 *
 * Every request, including the WebSocket upgrade, first passes the Host, Origin and Fetch
 * Metadata checks of security.ts (DNS rebinding, cross-site pages, port scans), then the token
 * where the API needs it. Every response, refusals included, says
 * `Cross-Origin-Resource-Policy: same-origin`. The token is new at every start (and on rotation)
 * and is handed out in two ways only: daemon.json (mode 0600) for the CLI, and the URL
 * `http://127.0.0.1:<port>/#token=<hex>` for the browser, whose fragment the server never sees
 * and never writes into a page.
 *
 * Every failure a client can cause is a coded Outcome (`{ ok: false, code, message }`) with a
 * fitting HTTP status; nothing a client sends can throw out of a handler here. *
 * This file routes, checks and holds the token (and its rotation); the WebSocket clients (envelopes,
 * pushes, slow clients) are ws-clients.ts and the HTTP answers and body reading http-replies.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ApiEvent } from '../api/contract.js'
import { dispatch, type Handlers } from '../api/dispatch.js'
import { daemonFilePath, removeDaemonFile, writeDaemonFile } from './daemon-file.js'
import { COMMON_HEADERS, fail, notAllowed, rawRefusal, readBody, sendJson } from './http-replies.js'
import {
  bearerToken,
  checkFetchSite,
  checkHostAndOrigin,
  newToken,
  tokenMatches,
  type Refusal,
} from './security.js'
import { serveStatic } from './static-files.js'
import { WsClients } from './ws-clients.js'

export interface ApiServerOptions {
  handlers: Partial<Handlers>
  /** The built UI (out/renderer); null: the API only. */
  uiDir?: string | null
  /** Loopback only; the option exists so callers state it. */
  host?: '127.0.0.1'
  /** 0 (default): a free port. */
  port?: number
  /** Where daemon.json goes; null: not written (tests, embedded use). */
  stateDir?: string | null
  /** Largest request body or WebSocket message, bytes (default 1 MiB). */
  maxBodyBytes?: number
  /** A WebSocket client this far behind on pushes is dropped (default 8 MiB). */
  maxBufferedBytes?: number
  /** Told about refused requests and dropped clients (e.g. a pino child logger). */
  log?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void }
}

export interface ApiServer {
  /** http://127.0.0.1:<port>/ */
  url: string
  /** The URL to open in a browser: the token rides in the fragment. */
  uiUrl: string
  /** The current token (rotateToken replaces it). */
  token: string
  port: number
  /**
   * Replaces the token: daemon.json is rewritten first (if it is kept), then the old token is
   * refused and the WebSockets opened with it are closed (1008). Resolves with the new token.
   */
  rotateToken(): Promise<string>
  /** Pushes an event to every WebSocket client; false (and not sent) if it fails the contract. */
  broadcast(event: ApiEvent | { event: string; data: unknown }): boolean
  /** Connected WebSocket clients. */
  clients(): number
  close(): Promise<void>
}

const DEFAULT_MAX_BODY = 1024 * 1024
const DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024
const API_PREFIX = '/api/'
const METHOD_PATH = /^\/api\/([a-z][a-zA-Z]*\.[a-z][a-zA-Z]*)$/
export const ROTATE_TOKEN_PATH = '/api/server/rotate-token'

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1'
  if (host !== '127.0.0.1') throw new Error('the local API binds 127.0.0.1 only')
  let token = newToken()
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED
  const uiDir = opts.uiDir ?? null
  const log = opts.log
  let port = 0

  const ws = new WsClients({ handlers: opts.handlers, maxPayload: maxBody, maxBuffered, log })
  const server: Server = createServer((req, res) => {
    // A client hanging up mid-answer: nothing to tell it; noted for whoever debugs the API.
    res.on('error', (err) => log?.debug({ err }, 'local API response failed'))
    handleHttp(req, res).catch((err: unknown) => {
      log?.warn({ err }, 'local API request failed')
      if (!res.headersSent) sendJson(res, 500, fail('INTERNAL', 'request failed'))
      else res.destroy()
    })
  })
  // Slow or idle sockets must not pile up (the browser keeps a few alive; that is fine).
  server.requestTimeout = 30_000
  server.headersTimeout = 10_000

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v)
    const refusal = checkHostAndOrigin(req, port)
    if (refusal) return refuse(res, refusal, req)
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1')
    const offSite = checkFetchSite(req, pathname)
    if (offSite) return refuse(res, offSite, req)

    if (pathname === '/api/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET')
      return sendJson(res, 200, { ok: true, value: { name: 'tandem' } })
    }
    if (pathname === '/api/ws') {
      return sendJson(res, 426, fail('BAD_REQUEST', 'use a WebSocket upgrade'), {
        upgrade: 'websocket',
      })
    }
    if (pathname.startsWith(API_PREFIX)) {
      if (!tokenMatches(bearerToken(req), token)) {
        return refuse(res, { status: 401, code: 'UNAUTHORIZED', message: 'missing or wrong token' })
      }
      if (pathname === ROTATE_TOKEN_PATH) {
        if (req.method !== 'POST') return notAllowed(res, 'POST')
        req.resume() // no body expected; drain whatever came
        await rotateToken()
        return sendJson(res, 200, { ok: true, value: { daemonFile: daemonFile } })
      }
      const match = METHOD_PATH.exec(pathname)
      if (!match) return sendJson(res, 404, fail('UNKNOWN_METHOD', `no API at ${pathname}`))
      if (req.method !== 'POST') return notAllowed(res, 'POST')
      const body = await readBody(req, maxBody)
      if (body.kind === 'too-large') {
        res.setHeader('connection', 'close')
        sendJson(res, 413, fail('PAYLOAD_TOO_LARGE', `request body over ${maxBody} bytes`))
        return
      }
      let params: unknown
      if (body.text.trim() !== '') {
        try {
          params = JSON.parse(body.text)
        } catch {
          return sendJson(res, 400, fail('BAD_REQUEST', 'request body is not JSON'))
        }
      }
      const outcome = await dispatch(opts.handlers, { id: 0, method: match[1], params })
      return sendJson(res, 200, outcome)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET, HEAD')
    await serveStatic(req, res, uiDir, pathname, (status, text, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8` }).end(text)
    })
  }

  function refuse(res: ServerResponse, r: Refusal, req?: IncomingMessage): void {
    log?.debug(
      {
        code: r.code,
        path: req?.url,
        host: req?.headers.host,
        origin: req?.headers.origin,
        site: req?.headers['sec-fetch-site'],
      },
      'refused',
    )
    const extra: Record<string, string> =
      r.status === 401 ? { 'www-authenticate': 'Bearer realm="tandem"' } : {}
    sendJson(res, r.status, fail(r.code, r.message), extra)
  }

  // WebSocket: the same checks before the upgrade is accepted, written as a plain HTTP answer.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that hangs up during the handshake: nothing to answer; noted for debugging.
    socket.on('error', (err) => log?.debug({ err }, 'WebSocket handshake failed'))
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    let answer: { status: number; code: string; message: string } | null =
      checkHostAndOrigin(req, port) ?? checkFetchSite(req, url.pathname)
    if (!answer && url.pathname !== '/api/ws') {
      answer = { status: 404, code: 'NOT_FOUND', message: 'WebSocket only at /api/ws' }
    }
    if (!answer && !tokenMatches(url.searchParams.get('token'), token)) {
      answer = { status: 401, code: 'UNAUTHORIZED', message: 'missing or wrong token' }
    }
    if (answer) {
      log?.debug(
        { code: answer.code, origin: req.headers.origin, site: req.headers['sec-fetch-site'] },
        'WebSocket refused',
      )
      socket.end(rawRefusal(answer.status, answer.code, answer.message))
      return
    }
    // The token just checked, whatever a rotation does meanwhile.
    ws.accept(req, socket, head, token)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const stateDir = opts.stateDir ?? null
  const daemonFile = stateDir === null ? null : daemonFilePath(stateDir)
  if (stateDir !== null) {
    try {
      await writeDaemonFile(stateDir, { port, token, pid: process.pid })
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      throw err
    }
  }
  const url = `http://127.0.0.1:${port}/`
  let closed = false
  let rotating: Promise<string> | null = null

  /** See ApiServer.rotateToken. Concurrent calls share one rotation. */
  function rotateToken(): Promise<string> {
    rotating ??= (async () => {
      try {
        const next = newToken()
        // The file first: if it cannot be written, the old token stays valid and the CLI keeps working.
        if (stateDir !== null)
          await writeDaemonFile(stateDir, { port, token: next, pid: process.pid })
        token = next
        ws.dropOtherTokens(next)
        log?.warn({}, 'local API token rotated; the old token is refused from now on')
        return next
      } finally {
        rotating = null
      }
    })()
    return rotating
  }

  return {
    url,
    get uiUrl() {
      return `${url}#token=${token}`
    },
    get token() {
      return token
    },
    port,
    rotateToken,
    broadcast: (event) => ws.broadcast(event),
    clients: () => ws.size,
    async close() {
      if (closed) return
      closed = true
      await ws.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (stateDir !== null) await removeDaemonFile(stateDir, process.pid)
    },
  }
}
