/**
 * The preload's bridge, driven through a fake ipcRenderer: requests become envelopes on the API
 * channel, pushed events reach every subscriber, and the object handed to the page is frozen.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { API_CHANNEL, EVENT_CHANNEL } from '../../../core/api/bridge.js'
import type { ApiEvent } from '../../../core/api/contract.js'
import { createBridge, type IpcRendererLike } from '../../../electron/preload/bridge.js'

function fakeIpcRenderer() {
  const invoked: Array<[string, unknown[]]> = []
  const listeners = new Map<string, Array<(event: unknown, ...args: unknown[]) => void>>()
  const ipc: IpcRendererLike = {
    invoke: (channel, ...args) => {
      invoked.push([channel, args])
      return Promise.resolve({ ok: true, value: null })
    },
    on: (channel, listener) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener])
    },
  }
  /** What main's webContents.send(channel, payload) looks like on this side. */
  const fromMain = (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l({ senderId: 0 }, payload)
  }
  return { ipc, invoked, listeners, fromMain }
}

const status = { event: 'log', data: { t: 5, level: 'info', subsystem: 'node', msg: 'up' } }

describe('preload bridge', () => {
  it('is frozen and exposes exactly host, request and subscribe', () => {
    const bridge = createBridge(fakeIpcRenderer().ipc)
    assert.ok(Object.isFrozen(bridge))
    assert.deepEqual(Object.keys(bridge).sort(), ['host', 'request', 'subscribe'])
    assert.equal(bridge.host, 'electron')
  })

  it('sends requests as numbered envelopes on the API channel', async () => {
    const { ipc, invoked } = fakeIpcRenderer()
    const bridge = createBridge(ipc)
    assert.deepEqual(await bridge.request('app.info', {}), { ok: true, value: null })
    await bridge.request('node.pause', { mode: 'now' })
    assert.deepEqual(invoked, [
      [API_CHANNEL, [{ id: 0, method: 'app.info', params: {} }]],
      [API_CHANNEL, [{ id: 1, method: 'node.pause', params: { mode: 'now' } }]],
    ])
  })

  it('fans pushed events out to subscribers through one IPC listener, until unsubscribed', () => {
    const { ipc, listeners, fromMain } = fakeIpcRenderer()
    const bridge = createBridge(ipc)
    const a: ApiEvent[] = []
    const b: ApiEvent[] = []
    const offA = bridge.subscribe((e) => a.push(e))
    bridge.subscribe((e) => b.push(e))
    assert.equal(listeners.get(EVENT_CHANNEL)?.length, 1)
    fromMain(EVENT_CHANNEL, status)
    offA()
    fromMain(EVENT_CHANNEL, status)
    assert.deepEqual(a, [status])
    assert.deepEqual(b, [status, status])
    // Other channels and malformed payloads never reach a subscriber.
    fromMain('some:other', status)
    fromMain(EVENT_CHANNEL, 'not an envelope')
    fromMain(EVENT_CHANNEL, { event: 'log' })
    assert.equal(b.length, 2)
  })

  it('a subscriber that throws does not break the others', () => {
    const { ipc, fromMain } = fakeIpcRenderer()
    const bridge = createBridge(ipc)
    let got = 0
    bridge.subscribe(() => {
      throw new Error('page bug')
    })
    bridge.subscribe(() => got++)
    fromMain(EVENT_CHANNEL, status)
    assert.equal(got, 1)
  })
})
