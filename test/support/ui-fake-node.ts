/**
 * A stand-in node for UI tests: answers every contract method from a FixtureState through the real
 * dispatcher (so the UI's params and the fixture's results are both checked against the contract),
 * records calls, fails chosen calls with a code, and pushes events. It reaches a page two ways:
 * as an Electron-like `window.tandem` bridge (attachBridge), or as the daemon's WebSocket transport
 * next to the built UI (serveFakeDaemon).
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import type { Page } from 'playwright-core'
import { WebSocketServer, type WebSocket } from 'ws'
import type {
  ApiEvent,
  EventData,
  EventName,
  MethodName,
  Outcome,
  ProjectSummary,
  Settings,
} from '../../core/api/contract.js'
import { dispatch, type Handlers } from '../../core/api/dispatch.js'
import { TandemError, type ErrorCode } from '../../core/api/errors.js'
import { startApiServer, type ApiServer } from '../../core/server/api-server.js'
import type { FixtureState } from './ui-fixture.js'
import { waitUntil } from './wait.js'

export interface Call {
  method: string
  params: unknown
}

export class FakeNode {
  readonly state: FixtureState
  readonly calls: Call[] = []
  private readonly failures = new Map<string, { code: ErrorCode; message: string }>()
  private readonly holds = new Map<string, Promise<void>>()
  private readonly sinks = new Set<(envelope: { event: string; data: unknown }) => Promise<void>>()

  constructor(state: FixtureState) {
    this.state = state
  }

  /** The next call of `method` fails with this code (once). */
  failNext(method: MethodName, code: ErrorCode, message: string): void {
    this.failures.set(method, { code, message })
  }

  callsOf(method: MethodName): Call[] {
    return this.calls.filter((c) => c.method === method)
  }

  async waitForCall(method: MethodName, match: (params: unknown) => boolean = () => true) {
    await waitUntil(
      () => this.callsOf(method).some((c) => match(c.params)),
      `a ${method} call matching the test`,
    )
    return this.callsOf(method)
      .filter((c) => match(c.params))
      .at(-1)!
  }

  /**
   * The handlers with call recording and failNext in front, for servers that dispatch themselves
   * (the daemon's real API server). Params are recorded after validation, defaults filled in.
   */
  recordingHandlers(): Handlers {
    const wrapped: Record<string, (params: unknown) => unknown> = {}
    for (const [method, handler] of Object.entries(this.handlers)) {
      wrapped[method] = (params: unknown) => {
        this.calls.push({ method, params })
        const failure = this.failures.get(method)
        if (failure) {
          this.failures.delete(method)
          throw new TandemError(failure.code, failure.message)
        }
        return (handler as (p: unknown) => unknown)(params)
      }
    }
    return wrapped as unknown as Handlers
  }

  async handle(raw: unknown): Promise<Outcome<unknown>> {
    const envelope = raw as { method?: string; params?: unknown }
    this.calls.push({ method: String(envelope.method), params: envelope.params })
    const failure = this.failures.get(String(envelope.method))
    if (failure) {
      this.failures.delete(String(envelope.method))
      return { ok: false, ...failure }
    }
    // A held method answers from the state at the time of the call, but only once released.
    const outcome = await dispatch(this.handlers, raw)
    await this.holds.get(String(envelope.method))
    return outcome
  }

  /** Answers to `method` wait (as a slow node's would) until the returned function is called. */
  hold(method: MethodName): () => void {
    let release = () => {}
    this.holds.set(method, new Promise<void>((resolve) => (release = resolve)))
    return () => {
      this.holds.delete(method)
      release()
    }
  }

  /** Push an event to every attached page; also folds it into the state, as a node would. */
  async push<E extends EventName>(event: E, data: EventData<E>): Promise<void> {
    this.fold({ event, data } as ApiEvent)
    await Promise.all([...this.sinks].map((sink) => sink({ event, data })))
  }

  /** Push something that is not a valid event: the UI must ignore it. */
  async pushRaw(envelope: { event: string; data: unknown }): Promise<void> {
    await Promise.all([...this.sinks].map((sink) => sink(envelope)))
  }

  addSink(sink: (envelope: { event: string; data: unknown }) => Promise<void>): () => void {
    this.sinks.add(sink)
    return () => this.sinks.delete(sink)
  }

  private fold(e: ApiEvent): void {
    const s = this.state
    switch (e.event) {
      case 'status':
        s.status = e.data
        break
      case 'progress':
        s.status = { ...s.status, progress: e.data }
        break
      case 'loss':
        s.loss.push(e.data)
        break
      case 'receipt':
        s.receipts.push(e.data)
        break
      case 'credits':
        s.credits = e.data
        break
      case 'projects':
        s.projects = e.data
        break
      case 'settings':
        s.settings = e.data
        break
      case 'log':
        s.logs.push(e.data)
        break
    }
  }

  private find(ref: string): ProjectSummary {
    const key = /^(?:tandem:\/\/project\/)?([0-9a-f]{64})$/i.exec(ref)?.[1]?.toLowerCase()
    if (!key) throw new TandemError('BAD_ARGUMENT', `not a project key or link: ${ref}`)
    const p = this.state.projects.find((x) => x.key === key)
    if (!p)
      throw new TandemError('PROJECT_NOT_FOUND', `no project ${key.slice(0, 8)}… on the network`)
    return p
  }

  private replace(p: ProjectSummary): ProjectSummary {
    this.state.projects = this.state.projects.map((x) => (x.key === p.key ? p : x))
    void this.push('projects', this.state.projects)
    return p
  }

  private setStatus(change: Partial<FixtureState['status']>) {
    this.state.status = { ...this.state.status, ...change }
    void this.push('status', this.state.status)
    return this.state.status
  }

  readonly handlers: Handlers = {
    'app.info': () => ({
      name: 'tandem',
      version: '0.1.0-test',
      host: 'daemon',
      platform: 'linux-x64',
      node: '20.20.0',
    }),
    'node.status': () => this.state.status,
    'node.preflight': () => this.state.preflight,
    'node.pause': ({ mode }) =>
      mode === 'now'
        ? this.setStatus({
            userPaused: true,
            pauseAfterRound: false,
            activity: 'paused',
            reason: 'paused by you',
          })
        : this.setStatus({ pauseAfterRound: true }),
    'node.resume': () =>
      this.setStatus({
        userPaused: false,
        pauseAfterRound: false,
        activity: 'training',
        reason: 'resumed',
      }),
    'node.environment': () => ({ ok: true }),
    'projects.list': () => this.state.projects,
    'projects.get': ({ project }) => this.find(project),
    'projects.join': ({ project, share }) =>
      this.replace({ ...this.find(project), joined: true, share: share ?? 100 }),
    'projects.leave': ({ project }) => {
      this.replace({ ...this.find(project), joined: false })
      return { ok: true }
    },
    'projects.setShare': ({ project, share }) => this.replace({ ...this.find(project), share }),
    'projects.setPaused': ({ project, paused }) => this.replace({ ...this.find(project), paused }),
    'credits.summary': () => this.state.credits,
    'receipts.list': ({ project, limit }) =>
      this.state.receipts.filter((r) => !project || r.project === project).slice(-limit),
    'ledger.verify': ({ project }) => {
      const report = this.state.verify[project]
      if (!report) throw new TandemError('LEDGER_UNAVAILABLE', 'no peer holds this ledger')
      return report
    },
    'settings.get': () => this.state.settings,
    'settings.set': (patch) => {
      const next: Settings = { ...this.state.settings, ...patch }
      this.state.settings = next
      void this.push('settings', next)
      return next
    },
    'logs.tail': ({ limit }) => this.state.logs.slice(-limit),
    'metrics.loss': ({ project, limit }) =>
      this.state.loss.filter((p) => !project || p.project === project).slice(-limit),
    'model.sample': ({ project }) => {
      const text = this.state.samples[project]
      if (text === undefined) throw new TandemError('PROJECT_NOT_FOUND', 'not a language model')
      return { round: this.find(project).round, text }
    },
    'model.imageInput': ({ project }) => {
      this.find(project)
      return this.state.images?.[project] ?? null
    },
    // The real classifier runs a checkpoint (test/unit/engine/classify.test.ts,
    // test/integration/node/classify-api.test.ts). The fake's "model" reads an image's mean
    // brightness as a digit (black 0 … white classes-1), so a UI test can tell which image the
    // page decoded and sent.
    'model.classify': ({ project, pixels, top }) => {
      const input = this.state.images?.[project]
      if (!input) throw new TandemError('BAD_ARGUMENT', 'only image-model projects classify images')
      const size = input.height * input.width * input.channels
      if (pixels.length !== size)
        throw new TandemError('BAD_ARGUMENT', `the model takes ${size} pixel values`)
      const level = (pixels.reduce((a, b) => a + b, 0) / size / 255) * (input.classes - 1)
      const scores = Array.from({ length: input.classes }, (_, k) =>
        Math.exp(-4 * Math.abs(k - level)),
      )
      const total = scores.reduce((a, b) => a + b, 0)
      const probabilities = scores.map((v) => v / total)
      const ranked = probabilities
        .map((probability, index) => ({ index, probability }))
        .sort((a, b) => b.probability - a.probability)
      return { round: this.find(project).round, probabilities, top: ranked.slice(0, top) }
    },
    // Governance is exercised against a real node (test/integration/host/governance.test.ts);
    // the fake shows a project with no charter and no proposals.
    'governance.get': ({ project }) => ({
      project,
      charter: null,
      hosting: false,
      round: this.find(project).round,
      terms: { current: 'none', accepted: null, paused: false },
      proposals: [],
    }),
    'governance.propose': () => {
      throw new TandemError('WRONG_STATE', 'the fake node hosts no project')
    },
    'governance.vote': ({ proposal }) => {
      throw new TandemError('PROPOSAL_NOT_FOUND', `no proposal ${proposal}`)
    },
    'governance.acceptTerms': ({ project }) =>
      this.handlers['governance.get']({ project }) as never,
    'projects.flags': () => [],
    'projects.flag': () => {
      throw new TandemError('WRONG_STATE', 'the fake node is not on a swarm')
    },
    'model.export': () => {
      throw new TandemError(
        'EXPORT_NOT_ALLOWED',
        'the project has no charter: its weights have no licence',
      )
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Transport 1: an Electron-style bridge injected into the page.

const bridgeScript = (withSubscribe: boolean) => `(() => {
  const listeners = new Set()
  let nextId = 0
  window.__tandemFakePush = (raw) => { for (const l of [...listeners]) l(raw) }
  const bridge = {
    host: 'electron',
    request: (method, params) => window.__tandemFakeRequest({ id: nextId++, method, params }),
  }
  ${withSubscribe ? `bridge.subscribe = (listener) => { listeners.add(listener); return () => { listeners.delete(listener) } }` : ''}
  window.tandem = Object.freeze(bridge)
})()`

/** Makes `page` see `node` as window.tandem (call before page.goto). */
export async function attachBridge(
  page: Page,
  node: FakeNode,
  { subscribe = true }: { subscribe?: boolean } = {},
): Promise<void> {
  await page.exposeFunction('__tandemFakeRequest', (raw: unknown) => node.handle(raw))
  await page.addInitScript(bridgeScript(subscribe))
  const remove = node.addSink(async (envelope) => {
    if (page.isClosed()) return
    await page.evaluate((raw) => {
      ;(window as unknown as { __tandemFakePush(raw: unknown): void }).__tandemFakePush(raw)
    }, envelope)
  })
  page.once('close', remove)
}

// ---------------------------------------------------------------------------------------------
// Transport 2: the daemon's protocol (core/server/api-server.ts): the built UI, POST /api/<method>
// with a Bearer token, and the WebSocket at /api/ws?token=, on one loopback port.

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

export interface FakeDaemon {
  /** The page address with its token, as `tandem daemon` would print it. */
  url: string
  token: string
  /** Open sockets right now. */
  clients(): number
  /** Refuse (true) or accept (false) new connections; existing ones are unaffected. */
  refuse(on: boolean): void
  /** Drop every open socket, as a daemon restart would. */
  dropAll(): void
  close(): Promise<void>
}

export async function serveFakeDaemon(
  root: string,
  node: FakeNode,
  token = '5ecret'.padEnd(32, '0'),
): Promise<FakeDaemon> {
  const base = normalize(root) + sep
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const method = /^\/api\/([a-z]+\.[a-zA-Z]+)$/.exec(path)?.[1]
    if (method) {
      // POST /api/<method> with a Bearer token, as the daemon serves it (the UI probes with it).
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({ ok: false, code: 'UNAUTHORIZED', message: 'missing or wrong token' }),
        )
        return
      }
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        void node
          .handle({ id: 0, method, params: body.trim() ? JSON.parse(body) : undefined })
          .then((outcome) => {
            res.writeHead(200, { 'content-type': 'application/json' })
            res.end(JSON.stringify(outcome))
          })
      })
      return
    }
    const file = normalize(join(base, path === '/' ? 'index.html' : path))
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  const wss = new WebSocketServer({ noServer: true })
  const sockets = new Set<WebSocket>()
  let refusing = false
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/api/ws' || refusing) {
      socket.destroy()
      return
    }
    if (url.searchParams.get('token') !== token) {
      // Like the daemon: a plain HTTP 401 instead of the upgrade, which a browser cannot read.
      const body = JSON.stringify({ ok: false, code: 'UNAUTHORIZED', message: 'wrong token' })
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n' +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      )
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      ws.on('message', async (data) => {
        let raw: { id?: unknown } | null = null
        try {
          raw = JSON.parse(String(data)) as { id?: unknown }
        } catch {
          return
        }
        const outcome = await node.handle(raw)
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: raw?.id, outcome }))
      })
    })
  })
  const removeSink = node.addSink(async (envelope) => {
    const frame = JSON.stringify(envelope)
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(frame)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    token,
    clients: () => sockets.size,
    refuse: (on) => {
      refusing = on
    },
    dropAll: () => {
      for (const ws of sockets) ws.terminate()
    },
    close: async () => {
      removeSink()
      for (const ws of sockets) ws.terminate()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Transport 3: the daemon's real API server (core/server) in front of the fake node's answers.

export async function serveWithApiServer(uiDir: string, node: FakeNode): Promise<ApiServer> {
  const server = await startApiServer({
    handlers: node.recordingHandlers(),
    uiDir,
    stateDir: null,
  })
  const remove = node.addSink(async (envelope) => {
    server.broadcast(envelope)
  })
  return {
    ...server,
    close: async () => {
      remove()
      await server.close()
    },
  }
}
