/** The local API's request checks, without a server: token comparison, Host and Origin rules. */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import {
  bearerToken,
  checkFetchSite,
  checkHostAndOrigin,
  newToken,
  tokenMatches,
} from '../../../core/server/security.js'
import { contentType } from '../../../core/server/static-files.js'

const req = (headers: Record<string, string>, method = 'GET') =>
  ({ headers, method }) as unknown as IncomingMessage

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

  it('Sec-Fetch-Site: same-origin, none and absent pass; another site is refused', () => {
    const check = (headers: Record<string, string>, path = '/api/health', method = 'GET') =>
      checkFetchSite(req(headers, method), path)?.code
    assert.equal(check({}), undefined)
    assert.equal(check({ 'sec-fetch-site': 'same-origin' }), undefined)
    assert.equal(check({ 'sec-fetch-site': 'none' }), undefined)
    for (const site of ['cross-site', 'same-site', 'Cross-Site', 'something-new']) {
      for (const path of ['/api/health', '/favicon.svg', '/', '/api/ws']) {
        assert.equal(
          check({ 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' }, path),
          'FORBIDDEN_SITE',
        )
      }
    }
  })

  it('another site may link to a UI page (a user-made top-level navigation), nothing more', () => {
    const nav = {
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      'sec-fetch-user': '?1',
    }
    const check = (headers: Record<string, string>, path = '/', method = 'GET') =>
      checkFetchSite(req(headers, method), path)?.code
    assert.equal(check(nav), undefined)
    assert.equal(check(nav, '/projects/abc'), undefined)
    assert.equal(check({ ...nav, 'sec-fetch-site': 'same-site' }), undefined)
    assert.equal(check(nav, '/', 'HEAD'), undefined)
    // Not for the API, not scripted (no user activation), not framed, not a form post.
    assert.equal(check(nav, '/api/health'), 'FORBIDDEN_SITE')
    assert.equal(check({ ...nav, 'sec-fetch-user': '?0' }), 'FORBIDDEN_SITE')
    const { 'sec-fetch-user': _, ...scripted } = nav
    assert.equal(check(scripted), 'FORBIDDEN_SITE')
    assert.equal(check({ ...nav, 'sec-fetch-dest': 'iframe' }), 'FORBIDDEN_SITE')
    assert.equal(check(nav, '/', 'POST'), 'FORBIDDEN_SITE')
  })

  it('content types for what a Vite build emits', () => {
    assert.equal(contentType('index.html'), 'text/html; charset=utf-8')
    assert.equal(contentType('a/b/index-Cf3.JS'), 'text/javascript; charset=utf-8')
    assert.equal(contentType('x.wasm'), 'application/wasm')
    assert.equal(contentType('x.unknown'), 'application/octet-stream')
  })
})
