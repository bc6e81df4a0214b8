/**
 * The built UI (out/renderer, the bundle Electron loads and the daemon serves) served over HTTP
 * to one Chromium, for a describe block of UI tests: `useBuiltUi()` registers the block's hooks
 * (serve and launch before, close after) and closes every page opened through `open` after each
 * test, failing the test if that page logged errors.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, afterEach, before } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchChromium } from './browser.js'
import { serveDirectory, type StaticServer } from './static-server.js'
import { openUi, type OpenedUi, type OpenOptions } from './ui-driver.js'

export const BUILT_UI = 'out/renderer'

export interface BuiltUi {
  readonly server: StaticServer
  readonly browser: Browser
  /** Opens `url` (default: the served UI) and checks its errors after the test. */
  open(options?: OpenOptions & { url?: string }): Promise<OpenedUi>
}

/** Call inside `describe`: the hooks belong to that block. */
export function useBuiltUi(): BuiltUi {
  let server: StaticServer | undefined
  let browser: Browser | undefined
  const opened: OpenedUi[] = []

  before(async () => {
    assert.ok(existsSync(`${BUILT_UI}/index.html`), 'run `npm run build:app` first (npm test does)')
    server = await serveDirectory(BUILT_UI)
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })
  afterEach(async () => {
    for (const ui of opened.splice(0)) {
      await ui.page.close()
      assert.deepEqual(ui.errors, [], 'the page logged errors')
    }
  })

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not ready: use it inside a test`)
    return value
  }
  return {
    get server() {
      return ready(server, 'the UI server')
    },
    get browser() {
      return ready(browser, 'Chromium')
    },
    async open({ url, ...options } = {}) {
      const ui = await openUi(
        ready(browser, 'Chromium'),
        url ?? ready(server, 'the UI server').url,
        options,
      )
      opened.push(ui)
      return ui
    },
  }
}
