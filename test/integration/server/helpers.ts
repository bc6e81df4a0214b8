/**
 * Local API server fixtures: a server with a few real handlers and a fake built UI, cleaned up
 * when the test ends, and raw HTTP / WebSocket clients that can send what a browser would refuse
 * to (a foreign Host header, an unnormalised path).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import WebSocket from 'ws'
import type { NodeStatus } from '../../../core/api/contract.js'
import type { Handlers } from '../../../core/api/dispatch.js'
import { TandemError } from '../../../core/api/errors.js'
import { SettingsStore } from '../../../core/node/settings.js'
import {
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
} from '../../../core/server/api-server.js'
import { tempDir } from '../../support/data.js'

export const sampleStatus = (): NodeStatus => ({
  activity: 'idle',
  reason: 'no joined project',
  userPaused: false,
  pauseAfterRound: false,
  key: 'ab'.repeat(32),
  displayId: 'abcdefgh',
  peers: 0,
  backend: null,
  progress: null,
  startedAt: 1_700_000_000_000,
})

export interface Fixture {
  server: ApiServer
  dir: string
  uiDir: string
  stateDir: string
  settings: SettingsStore
}

/** A server on a random port with app.info, node.status/pause/resume, settings.*, and a failing method. */
export async function startFixture(
  t: TestContext,
  extra: Partial<ApiServerOptions> = {},
  moreHandlers: Partial<Handlers> = {},
): Promise<Fixture> {
  const dir = await tempDir(t, 'tandem-api-')
  const uiDir = join(dir, 'ui')
  // Laid out like TANDEM_HOME=<dir>: daemon.json in <dir>/data, where `tandem --home` looks.
  const stateDir = join(dir, 'data')
  await mkdir(join(uiDir, 'assets'), { recursive: true })
  await writeFile(
    join(uiDir, 'index.html'),
    '<!doctype html><title>Tandem</title><div id="root"></div>',
  )
  await writeFile(join(uiDir, 'assets', 'app.js'), 'console.log("ui")')
  await writeFile(join(uiDir, 'assets', 'style.css'), 'body{}')
  await writeFile(
    join(uiDir, 'favicon.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>',
  )
  await writeFile(join(dir, 'secret.txt'), 'outside the UI')
  await symlink(join(dir, 'secret.txt'), join(uiDir, 'link.txt'))
  const settings = await SettingsStore.open({ dir: join(dir, 'config'), cores: 4 })
  let status = sampleStatus()
  const handlers: Partial<Handlers> = {
    'app.info': () => ({
      name: 'tandem',
      version: '0.0.0',
      host: 'daemon',
      platform: 'test',
      node: 'v20',
    }),
    'node.status': () => status,
    'node.pause': ({ mode }) =>
      (status = {
        ...status,
        userPaused: mode === 'now',
        pauseAfterRound: mode === 'after-round',
        activity: mode === 'now' ? 'paused' : status.activity,
      }),
    'node.resume': () =>
      (status = { ...status, userPaused: false, pauseAfterRound: false, activity: 'idle' }),
    'settings.get': () => settings.get(),
    'settings.set': (patch) => settings.update(patch),
    'projects.get': ({ project }) => {
      throw new TandemError('PROJECT_NOT_FOUND', `no project ${project}`)
    },
    'credits.summary': () => {
      throw new Error('a bug')
    },
    ...moreHandlers,
  }
  const server = await startApiServer({
    handlers,
    uiDir,
    host: '127.0.0.1',
    port: 0,
    stateDir,
    ...extra,
  })
  t.after(() => server.close())
  return { server, dir, uiDir, stateDir, settings }
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json(): unknown
}

/** One HTTP request with exactly these headers and this path (no normalisation). */
export function raw(
  port: number,
  opts: {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { host: `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
          })
        })
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** POST /api/<method> with the token (or the given Authorization). */
export function call(
  server: ApiServer,
  method: string,
  params?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${server.token}` },
): Promise<RawResponse> {
  return raw(server.port, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { 'content-type': 'application/json', ...headers },
    ...(params === undefined ? {} : { body: JSON.stringify(params) }),
  })
}

export type WsResult =
  | { ws: WebSocket; messages: unknown[]; next(): Promise<unknown> }
  | { status: number; body: string }

/** Opens a WebSocket; resolves with the open socket, or with the HTTP status it was refused with. */
export function openWs(
  t: TestContext,
  port: number,
  query: string,
  headers: Record<string, string> = {},
): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws${query}`, { headers })
    const messages: unknown[] = []
    const waiters: Array<(m: unknown) => void> = []
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown
      const waiter = waiters.shift()
      if (waiter) waiter(msg)
      else messages.push(msg)
    })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => {
        ws.terminate()
        resolve({ status: res.statusCode ?? 0, body })
      })
    })
    ws.on('error', (err) => {
      if (ws.readyState === WebSocket.CLOSED) return
      reject(err)
    })
    ws.on('open', () => {
      t.after(() => ws.terminate())
      resolve({
        ws,
        messages,
        next: () =>
          new Promise((res, rej) => {
            const queued = messages.shift()
            if (queued !== undefined) return res(queued)
            const timer = setTimeout(() => rej(new Error('no WebSocket message within 5 s')), 5000)
            waiters.push((m) => {
              clearTimeout(timer)
              res(m)
            })
          }),
      })
    })
  })
}
