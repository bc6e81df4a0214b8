/**
 * Finds the node this UI talks to and hides how: inside Electron the preload bridge
 * (`window.tandem`), in a plain browser the headless daemon's WebSocket on the page's own host,
 * authenticated by the token the daemon put in the address's fragment. Either way the rest of the UI
 * sees one `Connection`: a typed client, validated pushed events and a link state.
 */
import { createClient, type TandemClient, type Transport } from '../../core/api/client'
import { parseEvent, type ApiEvent, type Outcome } from '../../core/api/contract'
import { z } from 'zod'

export type LinkState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  /** Lost or never reached; another attempt starts at `retryAt` (ms since epoch). */
  | { kind: 'closed'; attempt: number; retryAt: number; reason: string }
  /** The node refused our token: retrying cannot help, the user needs a fresh link. */
  | { kind: 'rejected'; reason: string }

export interface Connection {
  readonly via: 'electron' | 'websocket'
  readonly client: TandemClient
  /** False when the node cannot push events (an older bridge): callers poll instead. */
  readonly pushes: boolean
  link(): LinkState
  onLink(listener: (state: LinkState) => void): () => void
  /** Events already checked against the contract; malformed ones are dropped. */
  onEvent(listener: (event: ApiEvent) => void): () => void
  /** Skip the backoff wait and try to reconnect now. */
  retryNow(): void
  close(): void
}

/** A call that never reached the node. Not a TandemError: the node did not answer at all. */
export class LinkError extends Error {
  readonly code = 'NOT_CONNECTED'
  constructor(message: string) {
    super(message)
    this.name = 'LinkError'
  }
}

class Listeners<T> {
  private readonly set = new Set<(value: T) => void>()
  add(listener: (value: T) => void): () => void {
    this.set.add(listener)
    return () => this.set.delete(listener)
  }
  emit(value: T): void {
    for (const listener of [...this.set]) listener(value)
  }
}

// ---------------------------------------------------------------------------------------------
// Token: `#token=<hex>` on first load, then sessionStorage (survives reloads of this tab only).

const TOKEN_KEY = 'tandem.token'

export function takeToken(): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]{1,256})/.exec(window.location.hash)
  if (match?.[1]) {
    const token = match[1]
    try {
      sessionStorage.setItem(TOKEN_KEY, token)
    } catch {
      // Storage can be disabled; the token still works for this page's lifetime.
    }
    // Keep the secret out of the address bar, history and anything copied from it.
    const { pathname, search } = window.location
    window.history.replaceState(window.history.state, '', pathname + search)
    return token
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------------
// Electron: request/response over the preload bridge; events if the bridge has `subscribe`.

type Subscribe = (listener: (raw: unknown) => void) => () => void

export function bridgeConnection(bridge: NonNullable<Window['tandem']>): Connection {
  const events = new Listeners<ApiEvent>()
  // Older preloads have no subscribe; read it untyped so either shape compiles and runs.
  const maybe: unknown = (bridge as unknown as Record<string, unknown>)['subscribe']
  const subscribe = typeof maybe === 'function' ? (maybe as Subscribe).bind(bridge) : null
  const unsubscribe = subscribe?.((raw) => {
    const event = parseEvent(raw)
    if (event) events.emit(event)
  })
  const transport: Transport = { request: (method, params) => bridge.request(method, params) }
  return {
    via: 'electron',
    client: createClient(transport),
    pushes: subscribe !== null,
    link: () => ({ kind: 'open' }),
    onLink: () => () => {},
    onEvent: (listener) => events.add(listener),
    retryNow: () => {},
    close: () => unsubscribe?.(),
  }
}

// ---------------------------------------------------------------------------------------------
// Browser: WebSocket to the daemon that served this page.

const Reply = z.object({
  id: z.number(),
  outcome: z.union([
    z.object({ ok: z.literal(true), value: z.unknown() }),
    z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
  ]),
})

/** Reconnect delays grow to this cap; a daemon restart is usually back within a few seconds. */
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000]
const BACKOFF_CAP_MS = 10_000
/** A call made while disconnected waits this long for the link before failing. */
const QUEUE_WAIT_MS = 15_000
/** Close codes that mean "your token is no good" (policy violation, or 4401/4403 by convention). */
const REJECT_CODES = new Set([1008, 4401, 4403])

/** Why a WebSocket handshake failed, as far as plain HTTP to the same daemon can tell. */
export type Probe = { kind: 'down' } | { kind: 'up' } | { kind: 'refused'; reason: string }

export interface SocketOptions {
  url: string
  /**
   * Asked after a handshake fails: a browser shows a refused upgrade (wrong token: HTTP 401) the
   * same as a daemon that is not running, so the UI asks the daemon over HTTP which it was.
   */
  probe?: () => Promise<Probe>
  /** Injected in tests; defaults to the browser's WebSocket. */
  WebSocketImpl?: typeof WebSocket
}

/**
 * Probes the daemon's HTTP API with the token: 401/403/421 mean it refuses this page (and says
 * why, with a code); any other answer means it is up; no answer means it is down.
 */
export function httpProbe(origin: string, token: string): () => Promise<Probe> {
  return async () => {
    let res: Response
    try {
      res = await fetch(`${origin}/api/app.info`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
        cache: 'no-store',
      })
    } catch {
      return { kind: 'down' }
    }
    if (![401, 403, 421].includes(res.status)) return { kind: 'up' }
    const body = (await res.json().catch(() => null)) as {
      code?: unknown
      message?: unknown
    } | null
    const code = typeof body?.code === 'string' ? body.code : `HTTP ${res.status}`
    const message = typeof body?.message === 'string' ? body.message : res.statusText
    return { kind: 'refused', reason: `${code}: ${message}` }
  }
}

export function socketConnection({
  url,
  probe,
  WebSocketImpl = WebSocket,
}: SocketOptions): Connection {
  const events = new Listeners<ApiEvent>()
  const links = new Listeners<LinkState>()
  const pending = new Map<number, (outcome: Outcome<unknown>) => void>()
  const failPending = new Map<number, (err: Error) => void>()
  const queued: Array<{ frame: string; id: number; timer: ReturnType<typeof setTimeout> }> = []
  let state: LinkState = { kind: 'connecting', attempt: 0 }
  let socket: WebSocket | null = null
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let attempt = 0
  let nextId = 1
  let closed = false

  const setState = (next: LinkState) => {
    state = next
    links.emit(next)
  }

  const open = () => {
    retryTimer = null
    if (closed) return
    setState({ kind: 'connecting', attempt })
    const ws = new WebSocketImpl(url)
    let opened = false
    socket = ws
    ws.onopen = () => {
      if (socket !== ws) return
      opened = true
      attempt = 0
      setState({ kind: 'open' })
      for (const item of queued.splice(0)) {
        clearTimeout(item.timer)
        ws.send(item.frame)
      }
    }
    ws.onmessage = (message) => {
      if (socket !== ws || typeof message.data !== 'string') return
      let raw: unknown
      try {
        raw = JSON.parse(message.data)
      } catch {
        return
      }
      const reply = Reply.safeParse(raw)
      if (reply.success) {
        const resolve = pending.get(reply.data.id)
        pending.delete(reply.data.id)
        failPending.delete(reply.data.id)
        resolve?.(reply.data.outcome as Outcome<unknown>)
        return
      }
      const event = parseEvent(raw)
      if (event) events.emit(event)
    }
    ws.onclose = (ev) => {
      if (socket !== ws) return
      socket = null
      // A reply can no longer arrive; whether the node acted on the call is unknown.
      for (const [id, fail] of failPending) {
        pending.delete(id)
        fail(new LinkError('The connection to the node dropped before it answered'))
      }
      failPending.clear()
      if (closed) return
      if (REJECT_CODES.has(ev.code)) {
        setState({
          kind: 'rejected',
          reason: ev.reason || 'The node refused this page’s access token',
        })
        return
      }
      const reason =
        ev.reason || (ev.wasClean ? 'The node closed the connection' : 'Cannot reach the node')
      if (opened || !probe) {
        scheduleRetry(reason)
        return
      }
      // The handshake itself failed: find out whether retrying can help before showing why.
      void probe().then((found) => {
        if (closed || socket !== null) return
        if (found.kind === 'refused') setState({ kind: 'rejected', reason: found.reason })
        else
          scheduleRetry(
            found.kind === 'up' ? 'The node is running but refused the live connection' : reason,
          )
      })
    }
  }

  const scheduleRetry = (reason: string) => {
    const base = BACKOFF_MS[attempt] ?? BACKOFF_CAP_MS
    const delay = Math.round(base * (0.8 + Math.random() * 0.4))
    attempt += 1
    setState({ kind: 'closed', attempt, retryAt: Date.now() + delay, reason })
    retryTimer = setTimeout(open, delay)
  }

  const transport: Transport = {
    request(method, params) {
      if (closed) return Promise.reject(new LinkError('This page closed its connection'))
      if (state.kind === 'rejected') return Promise.reject(new LinkError(state.reason))
      const id = nextId++
      const frame = JSON.stringify({ id, method, params })
      return new Promise<Outcome<unknown>>((resolve, reject) => {
        pending.set(id, resolve)
        failPending.set(id, reject)
        if (socket && socket.readyState === WebSocketImpl.OPEN) {
          socket.send(frame)
          return
        }
        const timer = setTimeout(() => {
          const at = queued.findIndex((item) => item.id === id)
          if (at >= 0) queued.splice(at, 1)
          pending.delete(id)
          failPending.delete(id)
          reject(new LinkError('Not connected to the node'))
        }, QUEUE_WAIT_MS)
        queued.push({ frame, id, timer })
      })
    },
  }

  open()
  return {
    via: 'websocket',
    client: createClient(transport),
    pushes: true,
    link: () => state,
    onLink: (listener) => links.add(listener),
    onEvent: (listener) => events.add(listener),
    retryNow() {
      if (state.kind !== 'closed' || retryTimer === null) return
      clearTimeout(retryTimer)
      open()
    },
    close() {
      closed = true
      if (retryTimer) clearTimeout(retryTimer)
      socket?.close()
    },
  }
}

/** The node for this page: the Electron bridge, else the daemon named by a token; else null. */
export function connect(): Connection | null {
  const bridge = window.tandem
  if (bridge) return bridgeConnection(bridge)
  const token = takeToken()
  if (!token || !/^https?:$/.test(window.location.protocol)) return null
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  const url = `${scheme}//${window.location.host}/api/ws?token=${encodeURIComponent(token)}`
  return socketConnection({ url, probe: httpProbe(window.location.origin, token) })
}
