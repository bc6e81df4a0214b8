/** The local API's request checks, without a server: token comparison, Host and Origin rules. */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import {
  bearerToken,
  checkHostAndOrigin,
  newToken,
  tokenMatches,
} from '../../../core/server/security.js'
import { contentType } from '../../../core/server/static-files.js'

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage

describe('local API security checks', () => {
  it('tokens are 32 random bytes in hex and compare exactly', () => {
    const token = newToken()
    assert.match(token, /^[0-9a-f]{64}$/)
    assert.notEqual(newToken(), token)
    assert.equal(tokenMatches(token, token), true)
    for (const wrong of [token.toUpperCase(), token.slice(1), `${token}0`, '', null, undefined]) {
      assert.equal(tokenMatches(wrong, token), false, String(wrong))
    }
  })

  it('reads only a well-formed bearer header', () => {
    assert.equal(bearerToken(req({ authorization: 'Bearer abc' })), 'abc')
    assert.equal(bearerToken(req({ authorization: 'bearer abc ' })), 'abc')
    assert.equal(bearerToken(req({ authorization: 'Bearer a b' })), null)
    assert.equal(bearerToken(req({ authorization: 'Basic abc' })), null)
    assert.equal(bearerToken(req({})), null)
  })

  it('Host must be loopback with our port; Origin, when sent, must be our own', () => {
    const check = (headers: Record<string, string>) => checkHostAndOrigin(req(headers), 8123)?.code
    assert.equal(check({ host: '127.0.0.1:8123' }), undefined)
    assert.equal(check({ host: 'LOCALHOST:8123' }), undefined)
    for (const host of ['127.0.0.1', '127.0.0.1:80', 'evil.example:8123', '[::1]:8123', '']) {
      assert.equal(check({ host }), 'FORBIDDEN_HOST', host)
    }
    assert.equal(check({}), 'FORBIDDEN_HOST')
    assert.equal(check({ host: '127.0.0.1:8123', origin: 'http://127.0.0.1:8123' }), undefined)
    for (const origin of ['http://localhost:8123', 'null', 'http://evil.example', 'file://']) {
      assert.equal(check({ host: '127.0.0.1:8123', origin }), 'FORBIDDEN_ORIGIN', origin)
    }
  })

  it('content types for what a Vite build emits', () => {
    assert.equal(contentType('index.html'), 'text/html; charset=utf-8')
    assert.equal(contentType('a/b/index-Cf3.JS'), 'text/javascript; charset=utf-8')
    assert.equal(contentType('x.wasm'), 'application/wasm')
    assert.equal(contentType('x.unknown'), 'application/octet-stream')
  })
})
