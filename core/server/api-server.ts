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
 * fitting HTTP status; nothing a client sends can throw out of a handler here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { parseEvent, type ApiEvent, type Outcome } from '../api/contract.js'
import { dispatch, type Handlers } from '../api/dispatch.js'
import { daemonFilePath, removeDaemonFile, writeDaemonFile } from './daemon-file.js'
import {
  bearerToken,
  checkFetchSite,
  checkHostAndOrigin,
  newToken,
  tokenMatches,
  type Refusal,
} from './security.js'
import { serveStatic } from './static-files.js'

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
const CLOSE_GRACE_MS = 1000
const API_PREFIX = '/api/'
const METHOD_PATH = /^\/api\/([a-z][a-zA-Z]*\.[a-z][a-zA-Z]*)$/
export const ROTATE_TOKEN_PATH = '/api/server/rotate-token'

/** On every response, refusals and WebSocket refusals included (see security.ts). */
const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1'
  if (host !== '127.0.0.1') throw new Error('the local API binds 127.0.0.1 only')
  let token = newToken()
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED
  const uiDir = opts.uiDir ?? null
  const log = opts.log
  let port = 0

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody })
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

  // The token each socket was opened with: a rotation closes the sockets of the old one.
  const socketTokens = new WeakMap<WebSocket, string>()

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
      const body = JSON.stringify(fail(answer.code, answer.message))
      const common = Object.entries(COMMON_HEADERS)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')
      socket.end(
        `HTTP/1.1 ${answer.status} ${statusText(answer.status)}\r\n` +
          common +
          'content-type: application/json\r\nconnection: close\r\n' +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      )
      return
    }
    const opened = token // the one just checked, whatever a rotation does meanwhile
    wss.handleUpgrade(req, socket, head, (ws) => {
      socketTokens.set(ws, opened)
      wss.emit('connection', ws, req)
    })
  })

  // The 101 answer carries the common headers too.
  wss.on('headers', (headers) => {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) headers.push(`${k}: ${v}`)
  })
  wss.on('connection', (ws: WebSocket) => {
    // ws closes the socket after an error (e.g. an oversized message: 1009); nothing to add.
    ws.on('error', (err) => log?.debug({ err }, 'WebSocket client failed'))
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void answer(ws, data, isBinary)
    })
  })

  async function answer(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let raw: unknown
    try {
      if (isBinary) throw new Error('binary')
      raw = JSON.parse(rawText(data))
    } catch {
      return reply(ws, null, fail('BAD_REQUEST', 'messages are JSON text request envelopes'))
    }
    const id = (raw as { id?: unknown } | null)?.id
    const outcome = await dispatch(opts.handlers, raw)
    reply(ws, typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : null, outcome)
  }

  function reply(ws: WebSocket, id: number | null, outcome: Outcome<unknown>): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, outcome }))
  }

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
        for (const ws of wss.clients) {
          if (socketTokens.get(ws) !== next) ws.close(1008, 'token rotated')
        }
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
    broadcast(event) {
      const checked = parseEvent(event)
      if (checked === null) {
        log?.warn({ event: (event as { event?: unknown }).event }, 'event fails the contract')
        return false
      }
      const text = JSON.stringify(checked)
      for (const ws of wss.clients) {
        if (ws.readyState !== ws.OPEN) continue
        if (ws.bufferedAmount > maxBuffered) {
          // A client that does not read its pushes would grow our memory without bound.
          log?.warn({ buffered: ws.bufferedAmount }, 'dropping a WebSocket client that fell behind')
          ws.close(1013, 'too far behind')
          continue
        }
        ws.send(text)
      }
      return true
    },
    clients: () => wss.clients.size,
    async close() {
      if (closed) return
      closed = true
      // Say goodbye properly, but do not let a client that never answers hold the shutdown.
      const gone = [...wss.clients].map(
        (ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())),
      )
      for (const ws of wss.clients) ws.close(1001, 'node stopping')
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(gone),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
      ])
      clearTimeout(timer)
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (stateDir !== null) await removeDaemonFile(stateDir, process.pid)
    },
  }
}

function fail(code: string, message: string): Outcome<never> {
  return { ok: false, code, message }
}

function sendJson(
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

function notAllowed(res: ServerResponse, allow: string): void {
  sendJson(res, 405, fail('METHOD_NOT_ALLOWED', `method not allowed (use ${allow})`), { allow })
}

type Body = { kind: 'ok'; text: string } | { kind: 'too-large' }

/** Reads the request body up to `max` bytes; beyond that, stops reading (the caller answers 413). */
function readBody(req: IncomingMessage, max: number): Promise<Body> {
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

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}

function statusText(status: number): string {
  return (
    { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 421: 'Misdirected Request' }[
      status
    ] ?? 'Error'
  )
}
