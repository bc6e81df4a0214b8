import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createClient } from '../../../core/api/client.js'
import type { AppInfo } from '../../../core/api/contract.js'
import { dispatch, type Handlers } from '../../../core/api/dispatch.js'
import { TandemError } from '../../../core/api/errors.js'

const info: AppInfo = {
  name: 'tandem',
  version: '1.2.3',
  host: 'daemon',
  platform: 'linux-x64',
  node: 'v20',
}
const handlers: Partial<Handlers> = { 'app.info': () => info }

describe('dispatch', () => {
  it('answers a valid request with the handler result', async () => {
    assert.deepEqual(await dispatch(handlers, { id: 1, method: 'app.info', params: {} }), {
      ok: true,
      value: info,
    })
  })

  it('treats missing params as empty', async () => {
    assert.equal((await dispatch(handlers, { id: 1, method: 'app.info' })).ok, true)
  })

  it('rejects malformed envelopes with BAD_REQUEST', async () => {
    for (const raw of [
      null,
      42,
      'app.info',
      [],
      { id: -1, method: 'app.info' },
      { id: 1, method: '' },
      { id: 1.5, method: 'x' },
    ]) {
      const out = await dispatch(handlers, raw)
      assert.equal(out.ok, false)
      assert.equal(!out.ok && out.code, 'BAD_REQUEST', JSON.stringify(raw))
    }
  })

  it('rejects unknown methods, including prototype names', async () => {
    for (const method of ['nope', 'toString', '__proto__', 'constructor']) {
      const out = await dispatch(handlers, { id: 1, method, params: {} })
      assert.equal(!out.ok && out.code, 'UNKNOWN_METHOD', method)
    }
  })

  it('rejects unexpected params with BAD_ARGUMENT', async () => {
    const out = await dispatch(handlers, { id: 1, method: 'app.info', params: { extra: true } })
    assert.equal(!out.ok && out.code, 'BAD_ARGUMENT')
  })

  it('passes coded errors through and hides other errors', async () => {
    const coded = await dispatch(
      {
        'app.info': () => {
          throw new TandemError('BAD_ARGUMENT', 'nope')
        },
      },
      { id: 1, method: 'app.info' },
    )
    assert.deepEqual(coded, { ok: false, code: 'BAD_ARGUMENT', message: 'nope' })
    const native = await dispatch(
      {
        'app.info': () => {
          throw new TypeError('secret detail')
        },
      },
      { id: 1, method: 'app.info' },
    )
    assert.deepEqual(native, { ok: false, code: 'INTERNAL', message: 'app.info failed' })
  })

  it('refuses a handler result that breaks the contract', async () => {
    const bad = { 'app.info': () => ({ ...info, host: 'toaster' }) } as unknown as Handlers
    const out = await dispatch(bad, { id: 1, method: 'app.info' })
    assert.equal(!out.ok && out.code, 'INTERNAL')
  })
})

describe('client', () => {
  it('returns values and throws coded errors', async () => {
    const ok = createClient({
      request: (method, params) => dispatch(handlers, { id: 0, method, params }),
    })
    assert.deepEqual(await ok.call('app.info', {}), info)
    const failing = createClient({
      request: async () => ({ ok: false, code: 'UNTRUSTED_SENDER', message: 'no' }),
    })
    await assert.rejects(failing.call('app.info', {}), {
      name: 'TandemError',
      code: 'UNTRUSTED_SENDER',
    })
    const strange = createClient({
      request: async () => ({ ok: false, code: 'WHAT', message: 'no' }),
    })
    await assert.rejects(strange.call('app.info', {}), { code: 'INTERNAL' })
  })
})
