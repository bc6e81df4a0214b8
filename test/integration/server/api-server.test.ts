/**
 * The local HTTP + WebSocket API against real requests: the token, Host, Origin and Fetch
 * Metadata checks, CORP on every answer, token rotation, the good path, malformed input, pushed
 * events, the static UI and path traversal, daemon.json.
 */
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { describe, it } from 'node:test'
import WebSocket from 'ws'
import type { Outcome } from '../../../core/api/contract.js'
import { daemonFilePath } from '../../../core/server/daemon-file.js'
import { call, openWs, raw, sampleStatus, startFixture, type WsResult } from './helpers.js'

type Coded = { ok: false; code: string; message: string }

function code(body: unknown): string | undefined {
  return (body as Partial<Coded>).code
}

function socket(result: WsResult) {
  assert.ok('ws' in result, `WebSocket refused with ${'status' in result ? result.status : '?'}`)
  return result
}

describe('local API over HTTP', () => {
  it('health answers without a token and says nothing else', async (t) => {
    const { server } = await startFixture(t)
    const res = await fetch(`${server.url}api/health`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { ok: true, value: { name: 'tandem' } })
  })

  it('answers a call with the right token; 401 without one or with a wrong one', async (t) => {
    const { server } = await startFixture(t)
    const good = await fetch(`${server.url}api/app.info`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
    })
    assert.equal(good.status, 200)
    const outcome = (await good.json()) as Outcome<{ host: string }>
    assert.ok(outcome.ok && outcome.value.host === 'daemon')

    const none = await call(server, 'app.info', {}, {})
    assert.equal(none.status, 401)
    assert.equal(code(none.json()), 'UNAUTHORIZED')
    assert.match(String(none.headers['www-authenticate']), /^Bearer/)
    const wrongToken = server.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))
    for (const auth of [
      `Bearer ${wrongToken}`,
      `Bearer ${server.token.slice(0, 10)}`,
      server.token,
      'Basic x',
    ]) {
      const res = await call(server, 'app.info', {}, { authorization: auth })
      assert.equal(res.status, 401, auth)
    }
    // An unknown API path is behind the token too: nothing is revealed without it.
    assert.equal((await call(server, 'nope', {}, {})).status, 401)
  })

  it('refuses a foreign Host (DNS rebinding) on every path, and accepts localhost', async (t) => {
    const { server } = await startFixture(t)
    const evil = { host: `rebind.example:${server.port}` }
    for (const path of ['/', '/api/health', '/assets/app.js']) {
      const res = await raw(server.port, { path, headers: evil })
      assert.equal(res.status, 421, path)
      assert.equal(code(res.json()), 'FORBIDDEN_HOST')
    }
    const api = await call(
      server,
      'app.info',
      {},
      { ...evil, authorization: `Bearer ${server.token}` },
    )
    assert.equal(api.status, 421)
    assert.equal(
      (await raw(server.port, { path: '/', headers: { host: `127.0.0.1:1` } })).status,
      421,
    )
    const local = await raw(server.port, {
      path: '/api/health',
      headers: { host: `localhost:${server.port}` },
    })
    assert.equal(local.status, 200)
  })

  it('refuses a foreign Origin even with the token; same origin passes', async (t) => {
    const { server } = await startFixture(t)
    const auth = { authorization: `Bearer ${server.token}` }
    for (const origin of [
      'http://evil.example',
      'null',
      `http://127.0.0.1:${server.port + 1}`,
      `https://127.0.0.1:${server.port}`,
    ]) {
      const res = await call(server, 'app.info', {}, { ...auth, origin })
      assert.equal(res.status, 403, origin)
      assert.equal(code(res.json()), 'FORBIDDEN_ORIGIN')
    }
    const same = await call(
      server,
      'app.info',
      {},
      { ...auth, origin: `http://127.0.0.1:${server.port}` },
    )
    assert.equal(same.status, 200)
    const sameLocalhost = await call(
      server,
      'app.info',
      {},
      {
        ...auth,
        host: `localhost:${server.port}`,
        origin: `http://localhost:${server.port}`,
      },
    )
    assert.equal(sameLocalhost.status, 200)
  })

  it('turns malformed input into coded outcomes and keeps serving', async (t) => {
    const { server, settings } = await startFixture(t, { maxBodyBytes: 4096 })
    const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }
    const post = (path: string, body?: string, method = 'POST') =>
      raw(server.port, { method, path, headers: auth, ...(body === undefined ? {} : { body }) })

    const notJson = await post('/api/settings.set', '{"maxThreads": ')
    assert.equal(notJson.status, 400)
    assert.equal(code(notJson.json()), 'BAD_REQUEST')
    const badParam = await post('/api/settings.set', JSON.stringify({ maxThreads: 0 }))
    assert.equal(badParam.status, 200)
    assert.equal(code(badParam.json()), 'BAD_ARGUMENT')
    assert.match((badParam.json() as Coded).message, /maxThreads/)
    assert.equal(code((await post('/api/settings.set', '[1,2]')).json()), 'BAD_ARGUMENT')
    assert.equal(code((await post('/api/settings.set', '"threads"')).json()), 'BAD_ARGUMENT')
    assert.equal(code((await post('/api/no.such')).json()), 'UNKNOWN_METHOD')
    assert.equal((await post('/api/not-a-method-path')).status, 404)
    assert.equal((await post('/api/app.info', undefined, 'GET')).status, 405)
    assert.equal((await post('/api/app.info', undefined, 'DELETE')).status, 405)
    const big = await post('/api/settings.set', JSON.stringify({ pad: 'x'.repeat(5000) }))
    assert.equal(big.status, 413)
    assert.equal(code(big.json()), 'PAYLOAD_TOO_LARGE')
    const coded = await post('/api/projects.get', JSON.stringify({ project: 'cd'.repeat(32) }))
    assert.equal(code(coded.json()), 'PROJECT_NOT_FOUND')
    const bug = await post('/api/credits.summary')
    assert.deepEqual(bug.json(), { ok: false, code: 'INTERNAL', message: 'credits.summary failed' })
    // Still serving, and an empty body means no params.
    const ok = await post('/api/settings.set', JSON.stringify({ maxThreads: 3 }))
    assert.equal((ok.json() as Outcome<{ maxThreads: number }>).ok, true)
    assert.equal(settings.get().maxThreads, 3)
    assert.equal((await post('/api/app.info')).status, 200)
  })

  it('serves the built UI: content types, SPA routes, no token in the page', async (t) => {
    const { server } = await startFixture(t)
    const index = await raw(server.port, { path: '/' })
    assert.equal(index.status, 200)
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8')
    assert.match(String(index.headers['content-security-policy']), /frame-ancestors 'none'/)
    assert.match(
      String(index.headers['content-security-policy']),
      new RegExp(`ws://127.0.0.1:${server.port}`),
    )
    assert.equal(index.headers['x-content-type-options'], 'nosniff')
    assert.ok(!index.text.includes(server.token))
    assert.match(
      (await raw(server.port, { path: '/assets/app.js' })).headers['content-type'] as string,
      /^text\/javascript/,
    )
    assert.match(
      (await raw(server.port, { path: '/assets/style.css' })).headers['content-type'] as string,
      /^text\/css/,
    )
    const route = await raw(server.port, { path: '/projects/abc?tab=receipts' })
    assert.equal(route.status, 200)
    assert.equal(route.text, index.text)
    assert.equal((await raw(server.port, { path: '/assets/missing.js' })).status, 404)
    const head = await raw(server.port, { method: 'HEAD', path: '/assets/app.js' })
    assert.equal(head.status, 200)
    assert.equal(head.text, '')
    assert.equal((await raw(server.port, { method: 'POST', path: '/' })).status, 405)
  })

  it('never serves a file outside the UI directory', async (t) => {
    const { server } = await startFixture(t)
    const paths = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/link.txt', // a symlink inside the UI dir pointing out
      '/..\\secret.txt',
      '/%00index.html',
      '/%E0%A4%A',
    ]
    for (const path of paths) {
      const res = await raw(server.port, { path })
      assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`)
      assert.ok(!res.text.includes('outside the UI'), path)
    }
  })

  it('without a UI directory the API still works and pages are 404', async (t) => {
    const { server } = await startFixture(t, { uiDir: null })
    assert.equal((await raw(server.port, { path: '/' })).status, 404)
    assert.equal((await call(server, 'app.info')).status, 200)
  })

  it('writes daemon.json (0600) while running and removes it on close', async (t) => {
    const { server, stateDir } = await startFixture(t)
    const path = daemonFilePath(stateDir)
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
      port: server.port,
      token: server.token,
      pid: process.pid,
    })
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.equal(server.uiUrl, `http://127.0.0.1:${server.port}/#token=${server.token}`)
    await server.close()
    await assert.rejects(stat(path), /ENOENT/)
  })

  it('a new token at every start', async (t) => {
    const a = await startFixture(t, { stateDir: null })
    const b = await startFixture(t, { stateDir: null })
    assert.match(a.server.token, /^[0-9a-f]{64}$/)
    assert.notEqual(a.server.token, b.server.token)
    assert.equal(
      (await call(b.server, 'app.info', {}, { authorization: `Bearer ${a.server.token}` })).status,
      401,
    )
  })
})

describe('local API over WebSocket', () => {
  it('refuses the upgrade without the token, with a wrong one, a foreign Origin or Host', async (t) => {
    const { server } = await startFixture(t)
    const port = server.port
    const refused = async (
      query: string,
      headers: Record<string, string>,
      status: number,
      c: string,
    ) => {
      const result = await openWs(t, port, query, headers)
      assert.ok('status' in result, `expected ${status} for ${query} ${JSON.stringify(headers)}`)
      assert.equal(result.status, status)
      assert.equal(code(JSON.parse(result.body)), c)
    }
    await refused('', {}, 401, 'UNAUTHORIZED')
    await refused(`?token=${'0'.repeat(64)}`, {}, 401, 'UNAUTHORIZED')
    await refused(
      `?token=${server.token}`,
      { origin: 'http://evil.example' },
      403,
      'FORBIDDEN_ORIGIN',
    )
    await refused(
      `?token=${server.token}`,
      { host: `rebind.example:${port}` },
      421,
      'FORBIDDEN_HOST',
    )
    socket(await openWs(t, port, `?token=${server.token}`, { origin: `http://127.0.0.1:${port}` }))
  })

  it('answers envelopes by id, and malformed messages with coded outcomes', async (t) => {
    const { server } = await startFixture(t)
    const { ws, next } = socket(await openWs(t, server.port, `?token=${server.token}`))
    ws.send(JSON.stringify({ id: 7, method: 'node.status' }))
    assert.deepEqual(await next(), { id: 7, outcome: { ok: true, value: sampleStatus() } })
    ws.send(JSON.stringify({ id: 8, method: 'node.pause', params: { mode: 'after-round' } }))
    const paused = (await next()) as { id: number; outcome: Outcome<{ pauseAfterRound: boolean }> }
    assert.equal(paused.id, 8)
    assert.ok(paused.outcome.ok && paused.outcome.value.pauseAfterRound)

    ws.send('{not json')
    assert.deepEqual(await next(), {
      id: null,
      outcome: {
        ok: false,
        code: 'BAD_REQUEST',
        message: 'messages are JSON text request envelopes',
      },
    })
    ws.send(Buffer.from([1, 2, 3]), { binary: true })
    assert.equal(code(((await next()) as { outcome: unknown }).outcome), 'BAD_REQUEST')
    ws.send(JSON.stringify({ id: 'x', method: 'node.status' }))
    assert.deepEqual(await next(), {
      id: null,
      outcome: { ok: false, code: 'BAD_REQUEST', message: 'Malformed request envelope' },
    })
    ws.send(JSON.stringify({ id: 9, method: 'settings.set', params: { maxThreads: -1 } }))
    const bad = (await next()) as { id: number; outcome: unknown }
    assert.equal(bad.id, 9)
    assert.equal(code(bad.outcome), 'BAD_ARGUMENT')
    ws.send(JSON.stringify({ id: 10, method: 'app.info' }))
    assert.equal(((await next()) as { id: number }).id, 10)
  })

  it('closes a client whose message is over the size cap; the server keeps going', async (t) => {
    const { server } = await startFixture(t, { maxBodyBytes: 1024 })
    const { ws } = socket(await openWs(t, server.port, `?token=${server.token}`))
    const closed = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)))
    ws.send(JSON.stringify({ id: 1, method: 'app.info', params: { pad: 'x'.repeat(4096) } }))
    assert.equal(await closed, 1009)
    const again = socket(await openWs(t, server.port, `?token=${server.token}`))
    again.ws.send(JSON.stringify({ id: 2, method: 'app.info' }))
    assert.equal(((await again.next()) as { id: number }).id, 2)
  })

  it('pushes events that match the contract to every client, and drops ones that do not', async (t) => {
    const { server } = await startFixture(t)
    const a = socket(await openWs(t, server.port, `?token=${server.token}`))
    const b = socket(await openWs(t, server.port, `?token=${server.token}`))
    assert.equal(server.clients(), 2)
    assert.equal(server.broadcast({ event: 'status', data: { activity: 'flying' } }), false)
    assert.equal(server.broadcast({ event: 'no-such-event', data: {} }), false)
    const entry = { t: 1, level: 'info' as const, subsystem: 'node', msg: 'hello' }
    assert.equal(server.broadcast({ event: 'log', data: entry }), true)
    // The first thing either client sees is the valid event: the invalid ones were never sent.
    assert.deepEqual(await a.next(), { event: 'log', data: entry })
    assert.deepEqual(await b.next(), { event: 'log', data: entry })
    assert.equal(server.broadcast({ event: 'status', data: sampleStatus() }), true)
    assert.deepEqual(await a.next(), { event: 'status', data: sampleStatus() })
  })

  it('close says goodbye to connected clients and stops listening', async (t) => {
    const { server } = await startFixture(t)
    const { ws } = socket(await openWs(t, server.port, `?token=${server.token}`))
    const closed = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)))
    await server.close()
    assert.equal(await closed, 1001)
    await assert.rejects(fetch(`${server.url}api/health`))
  })
})
describe('Fetch Metadata, CORP and token rotation', () => {
  const noCors = (site: string) => ({
    'sec-fetch-site': site,
    'sec-fetch-mode': 'no-cors',
    'sec-fetch-dest': 'image',
  })

  it('another site cannot find the daemon: no-cors GETs of health and favicon get 403', async (t) => {
    const { server } = await startFixture(t)
    for (const path of ['/favicon.svg', '/api/health', '/', '/assets/app.js']) {
      for (const site of ['cross-site', 'same-site']) {
        const res = await raw(server.port, { path, headers: noCors(site) })
        assert.equal(res.status, 403, `${site} ${path}`)
        assert.equal(code(res.json()), 'FORBIDDEN_SITE')
        assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin')
      }
    }
    // With the token too: Fetch Metadata is checked before it.
    const api = await call(
      server,
      'app.info',
      {},
      { authorization: `Bearer ${server.token}`, 'sec-fetch-site': 'cross-site' },
    )
    assert.equal(api.status, 403)
  })

  it('our own page, a typed URL or bookmark, and non-browser clients pass', async (t) => {
    const { server } = await startFixture(t)
    const variants: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
      {},
    ]
    for (const headers of variants) {
      for (const path of ['/favicon.svg', '/api/health', '/']) {
        const res = await raw(server.port, { path, headers })
        assert.equal(res.status, 200, `${JSON.stringify(headers)} ${path}`)
        assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin')
      }
    }
    const api = await call(
      server,
      'app.info',
      {},
      { authorization: `Bearer ${server.token}`, 'sec-fetch-site': 'same-origin' },
    )
    assert.equal(api.status, 200)
  })

  it('a link to the UI on another site opens it; framing or scripting it does not', async (t) => {
    const { server } = await startFixture(t)
    const nav = {
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      'sec-fetch-user': '?1',
    }
    const page = await raw(server.port, { path: '/', headers: nav })
    assert.equal(page.status, 200)
    assert.match(page.text, /<title>Tandem<\/title>/)
    assert.equal((await raw(server.port, { path: '/api/health', headers: nav })).status, 403)
    const framed = await raw(server.port, {
      path: '/',
      headers: { ...nav, 'sec-fetch-dest': 'iframe' },
    })
    assert.equal(framed.status, 403)
  })

  it('every answer carries Cross-Origin-Resource-Policy: same-origin', async (t) => {
    const { server } = await startFixture(t, { maxBodyBytes: 64 })
    const auth = { authorization: `Bearer ${server.token}` }
    const answers = [
      await raw(server.port, { path: '/' }), // 200 html
      await raw(server.port, { path: '/assets/app.js' }), // 200 file
      await raw(server.port, { path: '/assets/missing.js' }), // 404 static
      await raw(server.port, { path: '/link.txt' }), // 403 static
      await raw(server.port, { path: '/%E0%A4%A' }), // 400 static
      await call(server, 'app.info', {}, {}), // 401
      await call(server, 'app.info', {}, { ...auth, origin: 'http://evil.example' }), // 403
      await call(server, 'no.such', {}, auth), // 200 UNKNOWN_METHOD
      await raw(server.port, { method: 'POST', path: '/api/not-a-method', headers: auth }), // 404
      await raw(server.port, { method: 'DELETE', path: '/' }), // 405
      await raw(server.port, { path: '/api/ws' }), // 426
      await call(server, 'settings.set', { pad: 'x'.repeat(100) }, auth), // 413
      await raw(server.port, { path: '/', headers: { host: 'evil.example' } }), // 421
    ]
    const statuses = answers.map((a) => a.status)
    assert.deepEqual(statuses, [200, 200, 404, 403, 400, 401, 403, 200, 404, 405, 426, 413, 421])
    for (const [i, a] of answers.entries()) {
      assert.equal(a.headers['cross-origin-resource-policy'], 'same-origin', `answer ${i}`)
    }
    assert.equal(code(answers[9]!.json()), 'METHOD_NOT_ALLOWED')

    // The WebSocket's refusals and its 101 too.
    const refused = await openWs(t, server.port, '')
    assert.ok('status' in refused)
    const ok = await new Promise<Record<string, string | string[] | undefined>>(
      (resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`)
        ws.on('upgrade', (res) => resolve(res.headers))
        ws.on('open', () => ws.terminate())
        ws.on('error', reject)
      },
    )
    assert.equal(ok['cross-origin-resource-policy'], 'same-origin')
  })

  it('the WebSocket upgrade from another site is refused even with the token', async (t) => {
    const { server } = await startFixture(t)
    for (const site of ['cross-site', 'same-site']) {
      const res = await openWs(t, server.port, `?token=${server.token}`, {
        'sec-fetch-site': site,
        'sec-fetch-mode': 'websocket',
      })
      assert.ok('status' in res, site)
      assert.equal(res.status, 403)
      assert.equal(code(JSON.parse(res.body)), 'FORBIDDEN_SITE')
    }
    socket(
      await openWs(t, server.port, `?token=${server.token}`, { 'sec-fetch-site': 'same-origin' }),
    )
  })

  it('rotating the token: daemon.json first, the old token refused, its sockets closed', async (t) => {
    const { server, stateDir } = await startFixture(t)
    const old = server.token
    const { ws } = socket(await openWs(t, server.port, `?token=${old}`))
    const closed = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)))
    const rotated = await call(server, 'server/rotate-token', undefined, {
      authorization: `Bearer ${old}`,
    })
    assert.equal(rotated.status, 200)
    assert.deepEqual(rotated.json(), { ok: true, value: { daemonFile: daemonFilePath(stateDir) } })
    assert.match(server.token, /^[0-9a-f]{64}$/)
    assert.notEqual(server.token, old)
    assert.equal(server.uiUrl, `${server.url}#token=${server.token}`)
    const file = JSON.parse(await readFile(daemonFilePath(stateDir), 'utf8')) as { token: string }
    assert.equal(file.token, server.token)
    assert.equal(await closed, 1008)
    assert.equal(
      (await call(server, 'app.info', {}, { authorization: `Bearer ${old}` })).status,
      401,
    )
    assert.equal((await call(server, 'app.info')).status, 200)
    const oldWs = await openWs(t, server.port, `?token=${old}`)
    assert.ok('status' in oldWs && oldWs.status === 401)
    // Without the current token nobody rotates it, and only POST does.
    assert.equal(
      (await call(server, 'server/rotate-token', undefined, { authorization: `Bearer ${old}` }))
        .status,
      401,
    )
    const get = await raw(server.port, {
      path: '/api/server/rotate-token',
      headers: { authorization: `Bearer ${server.token}` },
    })
    assert.equal(get.status, 405)
    assert.equal(file.token, server.token)
  })
})
