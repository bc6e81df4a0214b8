/** The event hub: contract-checked delivery to every listener, independent unsubscribes. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEvent, type ApiEvent } from '../../../core/api/contract.js'
import { createEventHub, isEventEnvelope } from '../../../core/api/event-hub.js'

const log = { event: 'log', data: { t: 1, level: 'info', subsystem: 'node', msg: 'hi' } } as const

describe('event hub', () => {
  it('delivers valid events to every listener and drops invalid ones', () => {
    const hub = createEventHub({ validate: parseEvent })
    const a: ApiEvent[] = []
    const b: ApiEvent[] = []
    hub.subscribe((e) => a.push(e))
    hub.subscribe((e) => b.push(e))
    assert.equal(hub.emit(log), true)
    assert.equal(hub.emit({ event: 'log', data: { msg: 1 } }), false)
    assert.equal(hub.emit({ event: 'unknown', data: {} }), false)
    assert.equal(hub.emit('garbage'), false)
    assert.deepEqual(a, [log])
    assert.deepEqual(b, [log])
  })

  it('a throwing listener does not stop the others', () => {
    const errors: unknown[] = []
    const hub = createEventHub({ validate: parseEvent, onListenerError: (err) => errors.push(err) })
    let got = 0
    hub.subscribe(() => {
      throw new Error('listener bug')
    })
    hub.subscribe(() => got++)
    hub.emit(log)
    assert.equal(got, 1)
    assert.equal(errors.length, 1)
  })

  it('the shape-only check accepts any well-formed envelope and nothing else', () => {
    assert.equal(isEventEnvelope(log), log)
    assert.equal(isEventEnvelope({ event: 'x', data: null })?.event, 'x')
    for (const bad of [null, 'x', {}, { event: '' }, { event: 'x' }, { event: 1, data: 1 }]) {
      assert.equal(isEventEnvelope(bad), null, JSON.stringify(bad))
    }
  })

  it('each subscription unsubscribes on its own, twice is harmless', () => {
    const hub = createEventHub({ validate: parseEvent })
    let n = 0
    const listener = () => n++
    const off1 = hub.subscribe(listener)
    const off2 = hub.subscribe(listener)
    hub.emit(log)
    assert.equal(n, 2)
    off1()
    off1()
    hub.emit(log)
    assert.equal(n, 3)
    assert.equal(hub.size, 1)
    off2()
    assert.equal(hub.size, 0)
    hub.subscribe(listener)
    hub.clear()
    assert.equal(hub.size, 0)
  })
})
