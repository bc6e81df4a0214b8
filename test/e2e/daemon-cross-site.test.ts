/**
 * The local API against a real browser (Debian's Chromium): a page from another loopback origin
 * cannot tell that a daemon is there. Its no-cors fetch of /api/health and its <img> of
 * /favicon.svg both fail, as they would for a closed port, and the server answered each with 403
 * (Fetch Metadata), not 200. A user clicking a link to the UI on that page still gets the UI, and
 * the UI's own requests (same origin) pass.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { chromiumMissing, launchChromium } from '../support/browser.js'
import { tempDir } from '../support/data.js'
import { serveDirectory } from '../support/static-server.js'
import { startFixture } from '../integration/server/helpers.js'

interface Probe {
  fetch: string
  img: string
}

/** What a page can learn about `daemon` without CORS: the no-cors fetch and the image. */
function probe(daemon: string): Promise<Probe> {
  return (async () => {
    const fetched = await fetch(`${daemon}api/health`, { mode: 'no-cors' }).then(
      (r) => `resolved ${r.type}`,
      () => 'rejected',
    )
    const img = await new Promise<string>((resolve) => {
      const image = new Image()
      image.onload = () => resolve('load')
      image.onerror = () => resolve('error')
      image.src = `${daemon}favicon.svg`
    })
    return { fetch: fetched, img }
  })()
}

describe('the daemon seen from another site in Chromium', { skip: chromiumMissing }, () => {
  it('a page on another origin cannot find it; a link to the UI still opens it', async (t) => {
    const refused: Array<{ code?: string; path?: string }> = []
    const { server } = await startFixture(t, {
      log: {
        warn: () => {},
        debug: (obj, msg) => {
          if (msg === 'refused') refused.push(obj as { code?: string; path?: string })
        },
      },
    })
    const site = await tempDir(t, 'tandem-other-site-')
    await writeFile(
      join(site, 'index.html'),
      `<!doctype html><title>elsewhere</title><a id="ui" href="${server.url}">Tandem</a>`,
    )
    const other = await serveDirectory(site)
    t.after(() => other.close())
    const held: { browser?: Browser } = {}
    t.after(() => held.browser?.close())
    const browser = (held.browser = await launchChromium())
    const page = await browser.newPage()

    // localhost:<other> → 127.0.0.1:<daemon> is cross-site; 127.0.0.1:<other> is same-site.
    const otherPort = new URL(other.url).port
    for (const [origin, kind] of [
      [`http://localhost:${otherPort}/`, 'cross-site'],
      [`http://127.0.0.1:${otherPort}/`, 'same-site'],
    ] as const) {
      refused.length = 0
      await page.goto(origin)
      const seen = await page.evaluate(probe, server.url)
      assert.deepEqual(seen, { fetch: 'rejected', img: 'error' }, kind)
      const paths = refused.filter((r) => r.code === 'FORBIDDEN_SITE').map((r) => r.path)
      assert.ok(paths.includes('/api/health'), `${kind}: health answered 403 (${paths})`)
      assert.ok(paths.includes('/favicon.svg'), `${kind}: favicon answered 403 (${paths})`)
    }

    // The user clicks a link to the UI on that page: it opens.
    await page.goto(`http://localhost:${otherPort}/`)
    await Promise.all([page.waitForURL(server.url), page.click('#ui')])
    assert.equal(await page.title(), 'Tandem')
    // On the UI's own origin the same requests pass (CORP same-origin does not get in its way).
    assert.deepEqual(await page.evaluate(probe, server.url), {
      fetch: 'resolved basic',
      img: 'load',
    })
    const health = await page.evaluate(
      async (u) => (await fetch(`${u}api/health`)).status,
      server.url,
    )
    assert.equal(health, 200)
  })
})
