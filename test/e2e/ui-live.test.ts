/**
 * The built UI in real Chromium against a REAL node, end to end, nothing mocked: a loopback
 * testnet, a project host in this process running the demo's language-model project (short
 * rounds, one update closes a round), and `tandem daemon` (startNode with the API server and the
 * built UI) on the wasm backend with one thread. A person's first session, step by step:
 *
 *   1. the first-run pre-flight shows the backend really in use and why each better one is not
 *   2. the project, announced on discovery, is listed; it is joined by pasting its key
 *   3. a round trains: the progress bar moves and the loss chart grows from live events
 *   4. Settings: a duty cycle reaches the node; turning the schedule on (with no windows) makes
 *      the node wait, with that reason on the dashboard, and turning it off lets it train again
 *   5. pause now and resume: paused by you, then back to work, and training continues
 *   6. a round closes: its receipt is in Credits and its detail shows accepted, credits and the
 *      loss change, as the node recorded them; the model's sample text moves to the new round
 *
 * Every wait is on a named UI state or a node event, never a sleep. Screenshots of every page go
 * to test-results/ui-live-*.png.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { BACKENDS } from '../../core/engine/backends/probe.js'
import { startNode, type RunningNode } from '../../core/cli/commands/node.js'
import { formatNumber, lossChange } from '../../renderer/src/format.js'
import { chromiumMissing, launchChromium } from '../support/browser.js'
import { tempDir } from '../support/data.js'
import { loopbackTestnet } from '../support/swarm.js'
import {
  gotoPage,
  lossPointCount,
  openReceipt,
  openUi,
  pageSection,
  pasteInto,
  pauseNode,
  resumeNode,
  roundPhase,
  screenshot,
  setScheduleEnabled,
  setSetting,
  waitConnected,
  waitForActivity,
  waitForActivityIn,
  waitForLossPoints,
  waitForProgressMove,
  waitForProgressStep,
  waitForReason,
  waitForReceipts,
  waitForSample,
  waitLoaded,
  type OpenedUi,
} from '../support/ui-driver.js'
import { startLmTestHost } from '../support/ui-live-host.js'
import { waitUntil } from '../support/wait.js'

const built = 'out/renderer'
const PROJECT_NAME = 'Harbour tales (demo)'
const NO_WINDOWS = /schedule is on but has no windows/

/** A round that cannot go on (paused, outside the schedule) says "on hold", not "Training". */
async function assertNoCountdown(page: Page): Promise<void> {
  const round = await roundPhase(page)
  if (round && (round.phase === 'training' || round.phase === 'downloading'))
    assert.ok(round.onHold, `the round card says ${round.phase} while the node may not compute`)
}

describe('UI end to end against a real daemon and host', { skip: chromiumMissing }, () => {
  it('first run, join, live training, settings, pause and resume, a receipt', async (t) => {
    assert.ok(existsSync(`${built}/index.html`), 'run `npm run build:app` first (npm test does)')
    const started = Date.now()
    const lap = (what: string) => t.diagnostic(`${what} at ${Date.now() - started} ms`)

    // Teardown runs first-in first-out: the page, the browser and the daemon go before the
    // testnet (registered by loopbackTestnet below), so nothing waits out DHT timeouts.
    const held: { browser?: Browser; ui?: OpenedUi; daemon?: RunningNode } = {}
    t.after(async () => {
      await held.ui?.page.close().catch(() => {})
      await held.browser?.close()
      await held.daemon?.stop()
    })

    const net = await loopbackTestnet(t)
    const h = await startLmTestHost(t, net, {
      recipe: { roundDeadlineSec: 10, minUpdates: 1, maxUpdates: 1 },
    })
    const closed: number[] = []
    h.host.on('round-closed', (e) => {
      closed.push(e.round)
      t.diagnostic(
        `host: round ${e.round} closed, ${e.accepted} accepted, loss ` +
          `${e.lossBefore.toFixed(4)} → ${e.lossAfter.toFixed(4)} (${Date.now() - started} ms)`,
      )
    })
    await h.host.start()
    const daemon = await startNode(
      {
        home: await tempDir(t, 'tandem-ui-live-'),
        bootstrap: net.bootstrap,
        backend: 'wasm',
        threads: '1',
      },
      true,
    )
    held.daemon = daemon
    const node = daemon.node
    node.log.on('entry', (e) => {
      if (e.level === 'warn' || e.level === 'error') t.diagnostic(`daemon ${e.level}: ${e.msg}`)
    })
    const browser = (held.browser = await launchChromium())
    const ui = (held.ui = await openUi(browser, daemon.server!.uiUrl))
    const page: Page = ui.page
    await waitConnected(page)
    await waitLoaded(page)
    lap('UI connected')

    let failed = false
    const step = (name: string, fn: () => Promise<void>) =>
      t.test(name, { skip: failed ? 'an earlier step failed' : undefined }, async () => {
        try {
          await fn()
          lap(name)
        } catch (err) {
          failed = true
          await screenshot(page, `ui-live-failed-${name.slice(0, 2).trim()}`).catch(() => {})
          throw err
        }
      })

    await step(
      '1. first-run pre-flight: the backend in use and why not the better ones',
      async () => {
        await page.getByTestId('first-run').waitFor()
        const verdict = page.getByTestId('preflight-verdict')
        await verdict.waitFor()
        const pre = await node.preflight()
        assert.equal(pre.backend.chosen, 'wasm')
        assert.deepEqual(
          pre.backend.skipped.map((s) => s.name),
          BACKENDS.slice(0, BACKENDS.indexOf('wasm')),
          'every better backend is listed with its reason',
        )
        for (const s of pre.backend.skipped) assert.match(s.reason, /started with --backend wasm/)
        assert.equal(await verdict.getAttribute('data-can-help'), String(pre.canHelp))
        assert.ok(pre.canHelp, `this machine cannot help: ${pre.problems.join('; ')}`)
        const facts = (await page.getByTestId('preflight-facts').textContent()) ?? ''
        for (const expected of [
          `wasm on ${pre.backend.device}`,
          ...pre.backend.skipped.map((s) => `${s.name}: ${s.reason}`),
          `free at ${pre.disk.path}`,
        ])
          assert.ok(facts.includes(expected), `pre-flight facts lack "${expected}": ${facts}`)
        assert.doesNotMatch(facts, /fastest backend here/)
        await screenshot(page, 'ui-live-first-run')
      },
    )

    await step('2. the project is discovered, and joined by pasting its key', async () => {
      // The host announces on the discovery topic: the first-run page lists it without a reload.
      const card = page.getByTestId('discover-project').filter({ hasText: PROJECT_NAME })
      await card.waitFor({ timeout: 30_000 })
      assert.match((await card.textContent()) ?? '', /transformer/)

      const section = await gotoPage(page, 'projects')
      await pasteInto(section.getByLabel('Project key or link'), h.project)
      await section.getByRole('button', { name: 'Add project' }).click()
      const ok = section.getByTestId('join-ok')
      await ok.waitFor({ timeout: 30_000 })
      assert.equal(await ok.textContent(), `Joined ${PROJECT_NAME}.`)
      assert.deepEqual(
        node.joinedProjects().map((p) => p.key),
        [h.project],
      )
      const detail = section.getByTestId('project-detail')
      await detail.getByRole('heading', { name: PROJECT_NAME, level: 3 }).waitFor()
      const facts = (await detail.getByTestId('project-facts').textContent()) ?? ''
      assert.match(facts, /transformer/)
      assert.match(facts, /Harbour tales \(/, 'the dataset header is shown')
      await screenshot(page, 'ui-live-projects')
    })

    await step('3. a round trains: progress and the loss chart move', async () => {
      await gotoPage(page, 'dashboard')
      await waitForActivity(page, 'training')
      assert.equal(await page.getByTestId('current-project').textContent(), PROJECT_NAME)
      await waitForProgressStep(page, 1)
      await waitForProgressMove(page)
      const points = await waitForLossPoints(page, 1)
      await waitForLossPoints(page, points + 3)
      assert.match((await page.getByTestId('latest-loss').textContent()) ?? '', /latest \d/)
      assert.match((await page.getByTestId('backend').textContent()) ?? '', /^wasm on /)
      assert.match((await page.getByTestId('throughput').textContent()) ?? '', /samples\/s/)
      await screenshot(page, 'ui-live-dashboard')
    })

    await step('4. settings: duty cycle applied; the schedule makes the node wait', async () => {
      await setSetting(page, 'dutyCycle', '0.6')
      assert.equal(node.settings.get().dutyCycle, 0.6)
      await screenshot(page, 'ui-live-settings')

      await setScheduleEnabled(page, true)
      assert.equal(node.settings.get().schedule.enabled, true)
      await gotoPage(page, 'dashboard')
      await waitForActivity(page, 'waiting')
      await waitForReason(page, NO_WINDOWS)
      assert.equal(node.status().activity, 'waiting')
      await assertNoCountdown(page)
      await screenshot(page, 'ui-live-dashboard-schedule')

      await setScheduleEnabled(page, false)
      await gotoPage(page, 'dashboard')
      await waitForReason(page, NO_WINDOWS, false)
      const points = await lossPointCount(page)
      await waitForLossPoints(page, points + 1)
    })

    await step('5. pause now and resume', async () => {
      await gotoPage(page, 'dashboard')
      await waitForActivity(page, 'training')
      await pauseNode(page, 'now')
      await waitForActivity(page, 'paused')
      assert.equal(await page.getByTestId('activity-reason').textContent(), 'paused by you')
      assert.equal(node.status().userPaused, true)
      await assertNoCountdown(page)
      await screenshot(page, 'ui-live-dashboard-paused')
      await resumeNode(page)
      await waitForActivityIn(page, ['training', 'waiting'])
      await waitForReason(page, /paused by you/, false)
      assert.equal(node.status().userPaused, false)
      // Work goes on: the chart grows again after the resume.
      const points = await lossPointCount(page)
      await waitForLossPoints(page, points + 1)
    })

    await step('6. a round closes: its receipt in Credits, opened', async () => {
      const rows = await waitForReceipts(page, 1)
      const mine = node.state.get().receipts
      assert.ok(mine.length >= 1)
      const receipt = mine.at(-1)!
      assert.equal(receipt.accepted, true, `rejected: ${receipt.reason}`)
      assert.ok(receipt.credits > 0)
      assert.equal(await rows.first().getAttribute('data-accepted'), 'true')
      const total = await page.getByTestId('credits-total').textContent()
      assert.notEqual(total, '0')
      await screenshot(page, 'ui-live-credits')

      const dialog = await openReceipt(page, PROJECT_NAME, receipt.round)
      assert.equal(await dialog.getByTestId('receipt-verdict').textContent(), 'Accepted')
      const text = (await dialog.textContent()) ?? ''
      assert.ok(text.includes(`Credits${formatNumber(receipt.credits)}`), text)
      assert.notEqual(receipt.lossBefore, null)
      assert.notEqual(receipt.lossAfter, null)
      const change = lossChange(receipt.lossBefore, receipt.lossAfter)
      assert.ok(text.includes(`Loss change${change}`), `no "Loss change${change}" in ${text}`)
      assert.ok(text.includes(receipt.updateHash), 'the update hash is shown')
      await screenshot(page, 'ui-live-receipt-detail')
      await dialog.getByRole('button', { name: 'Close' }).click()
      await dialog.waitFor({ state: 'detached' })

      // The dashboard's sample text comes from the global model after that round.
      await gotoPage(page, 'dashboard')
      const sample = await waitForSample(page, receipt.round + 1)
      assert.ok(sample.length > 0)
      await gotoPage(page, 'activity')
      await pageSection(page, 'activity').getByTestId('log-row').first().waitFor()
      await screenshot(page, 'ui-live-activity')
    })

    await waitUntil(() => closed.length >= 1, 'the host to have closed a round', 1000)
    assert.deepEqual(ui.errors, [], 'the page logged errors')
    lap('done')
  })
})
