/**
 * The local API's WebSocket side, once an upgrade passed the checks (api-server.ts): request
 * envelopes in, `{id, outcome}` out through the same dispatcher as HTTP, and events pushed to every
 * client, each checked against the contract. A client that does not read its pushes is dropped
 * rather than grow our memory; a token rotation closes the sockets opened with the old token; close
 * says goodbye but never waits on a silent client for long. docs/node.md ("HTTP + WebSocket").
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { parseEvent, type ApiEvent, type Outcome } from '../api/contract.js'
import { dispatch, type Handlers } from '../api/dispatch.js'
import { COMMON_HEADERS, fail } from './http-replies.js'

export interface WsClientsOptions {
  handlers: Partial<Handlers>
  /** Largest message, bytes. */
  maxPayload: number
  /** A client this far behind on pushes is dropped. */
  maxBuffered: number
  log?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void }
}

const CLOSE_GRACE_MS = 1000

export class WsClients {
  private readonly wss: WebSocketServer
  // The token each socket was opened with: a rotation closes the sockets of the old one.
  private readonly socketTokens = new WeakMap<WebSocket, string>()

  constructor(private readonly opts: WsClientsOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload })
    // The 101 answer carries the common headers too.
    this.wss.on('headers', (headers) => {
      for (const [k, v] of Object.entries(COMMON_HEADERS)) headers.push(`${k}: ${v}`)
    })
    this.wss.on('connection', (ws: WebSocket) => {
      // ws closes the socket after an error (e.g. an oversized message: 1009); nothing to add.
      ws.on('error', (err) => opts.log?.debug({ err }, 'WebSocket client failed'))
      ws.on('message', (data: RawData, isBinary: boolean) => {
        void this.answer(ws, data, isBinary)
      })
    })
  }

  get size(): number {
    return this.wss.clients.size
  }

  /** Completes a checked upgrade; `token` is the one it was opened with. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, token: string): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.socketTokens.set(ws, token)
      this.wss.emit('connection', ws, req)
    })
  }

  /** Closes (1008) every socket not opened with `token`. */
  dropOtherTokens(token: string): void {
    for (const ws of this.wss.clients) {
      if (this.socketTokens.get(ws) !== token) ws.close(1008, 'token rotated')
    }
  }

  /** See ApiServer.broadcast. */
  broadcast(event: ApiEvent | { event: string; data: unknown }): boolean {
    const log = this.opts.log
    const checked = parseEvent(event)
    if (checked === null) {
      log?.warn({ event: (event as { event?: unknown }).event }, 'event fails the contract')
      return false
    }
    const text = JSON.stringify(checked)
    for (const ws of this.wss.clients) {
      if (ws.readyState !== ws.OPEN) continue
      if (ws.bufferedAmount > this.opts.maxBuffered) {
        // A client that does not read its pushes would grow our memory without bound.
        log?.warn({ buffered: ws.bufferedAmount }, 'dropping a WebSocket client that fell behind')
        ws.close(1013, 'too far behind')
        continue
      }
      ws.send(text)
    }
    return true
  }

  async close(): Promise<void> {
    const wss = this.wss
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
  }

  private async answer(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let raw: unknown
    try {
      if (isBinary) throw new Error('binary')
      raw = JSON.parse(rawText(data))
    } catch {
      return reply(ws, null, fail('BAD_REQUEST', 'messages are JSON text request envelopes'))
    }
    const id = (raw as { id?: unknown } | null)?.id
    const outcome = await dispatch(this.opts.handlers, raw)
    reply(ws, typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : null, outcome)
  }
}

function reply(ws: WebSocket, id: number | null, outcome: Outcome<unknown>): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, outcome }))
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
