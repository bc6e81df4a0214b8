/**
 * The main-process IPC end, driven through a fake ipcMain (the Electron binary cannot run on these
 * machines; test/e2e/electron-app.test.ts drives the real one where it exists).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { API_CHANNEL, EVENT_CHANNEL } from '../../../core/api/bridge.js'
import type { Handlers } from '../../../core/api/dispatch.js'
import {
  answerWith,
  pushEvent,
  registerApi,
  uiUrlCheck,
  type IpcMainLike,
  type WebContentsLike,
} from '../../../electron/main/ipc.js'

type Listener = Parameters<IpcMainLike['handle']>[1]

function fakeIpcMain() {
  const listeners = new Map<string, Listener>()
  const ipc: IpcMainLike = {
    handle: (channel, listener) => {
      assert.ok(!listeners.has(channel), `second handler for ${channel}`)
      listeners.set(channel, listener)
    },
    removeHandler: (channel) => listeners.delete(channel),
  }
  const invoke = (url: string | null, payload: unknown) => {
    const listener = listeners.get(API_CHANNEL)
    assert.ok(listener, 'no handler registered')
    return listener({ senderFrame: url === null ? null : { url } }, payload)
  }
  return { ipc, listeners, invoke }
}

const handlers: Partial<Handlers> = {
  'app.info': () => ({
    name: 'tandem',
    version: '0.0.0',
    host: 'electron',
    platform: 'test',
    node: 'v20',
  }),
}
const rendererFile = 'app://tandem/index.html'

describe('electron IPC', () => {
  it('answers contract calls from the Tandem page', async () => {
    const { ipc, invoke } = fakeIpcMain()
    registerApi(ipc, answerWith(handlers), uiUrlCheck(rendererFile))
    const out = await invoke(`${rendererFile}#/settings`, { id: 1, method: 'app.info', params: {} })
    assert.deepEqual(out, { ok: true, value: handlers['app.info']!({}) })
  })

  it('refuses other frames, other files and remote pages', async () => {
    const { ipc, invoke } = fakeIpcMain()
    registerApi(ipc, answerWith(handlers), uiUrlCheck(rendererFile))
    for (const url of [
      null,
      'https://evil.example/',
      'file:///tmp/other.html',
      'app://evil/index.html',
      'app://tandem/other.html',
      'not a url',
      '',
    ]) {
      const out = (await invoke(url, { id: 1, method: 'app.info' })) as {
        ok: boolean
        code?: string
      }
      assert.equal(out.code, 'UNTRUSTED_SENDER', String(url))
    }
  })

  it('trusts only the dev server page in development: scheme, host, port and path', () => {
    const check = uiUrlCheck('http://localhost:5173/')
    assert.equal(check('http://localhost:5173/#/x'), true)
    assert.equal(check('http://localhost:5174/'), false)
    assert.equal(check('http://127.0.0.1:5173/'), false)
    assert.equal(check('http://localhost:5173/other'), false)
    assert.equal(check(rendererFile), false)
  })

  it('validates payloads from the trusted page', async () => {
    const { ipc, invoke } = fakeIpcMain()
    registerApi(ipc, answerWith(handlers), uiUrlCheck(rendererFile))
    const out = (await invoke(rendererFile, { id: 'x', method: 'app.info' })) as { code?: string }
    assert.equal(out.code, 'BAD_REQUEST')
  })

  it('unregisters its handler', () => {
    const { ipc, listeners } = fakeIpcMain()
    const dispose = registerApi(ipc, answerWith(handlers), uiUrlCheck(rendererFile))
    dispose()
    assert.equal(listeners.size, 0)
  })
})

/** A window's webContents that records what main sends it. */
function fakeWebContents(url: string, destroyed = false) {
  const sent: Array<[string, unknown[]]> = []
  const contents: WebContentsLike = {
    send: (channel, ...args) => void sent.push([channel, args]),
    isDestroyed: () => destroyed,
    getURL: () => url,
  }
  return { contents, sent }
}

describe('electron event push', () => {
  const log = { event: 'log', data: { t: 1, level: 'warn', subsystem: 'net', msg: 'slow peer' } }
  const trusted = uiUrlCheck(rendererFile)

  it('sends contract-checked events to every live Tandem window on the event channel', () => {
    const a = fakeWebContents(`${rendererFile}#/`)
    const b = fakeWebContents(rendererFile)
    assert.equal(pushEvent([a.contents, b.contents], log, trusted), true)
    assert.deepEqual(a.sent, [[EVENT_CHANNEL, [log]]])
    assert.deepEqual(b.sent, [[EVENT_CHANNEL, [log]]])
  })

  it('sends nothing for an event that fails the contract', () => {
    const a = fakeWebContents(rendererFile)
    const bad = { event: 'log', data: { t: -1, level: 'loud', subsystem: 'x', msg: '' } }
    assert.equal(pushEvent([a.contents], bad, trusted), false)
    assert.equal(pushEvent([a.contents], { event: 'nope', data: 1 }, trusted), false)
    assert.deepEqual(a.sent, [])
  })

  it('skips destroyed windows and windows showing another page', () => {
    const gone = fakeWebContents(rendererFile, true)
    const elsewhere = fakeWebContents('https://evil.example/')
    assert.equal(pushEvent([gone.contents, elsewhere.contents], log, trusted), true)
    assert.deepEqual(gone.sent, [])
    assert.deepEqual(elsewhere.sent, [])
  })
})
