/**
 * The built UI (out/renderer) in real Chromium against a fake node: every page renders from a
 * fixture, pushed events update it, settings validate against the contract as typed, errors show
 * their codes, the keyboard reaches everything, and both transports (the Electron-style bridge and
 * the daemon's WebSocket) work. Screenshots of each page in both themes go to test-results/.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { Settings } from '../../core/api/contract.js'
import { chromiumMissing, launchChromium } from '../support/browser.js'
import { BUILT_UI, useBuiltUi } from '../support/built-ui.js'
import {
  gotoPage,
  horizontalOverflow,
  lossPointCount,
  openReceipt,
  openUi,
  pageSection,
  pauseNode,
  resumeNode,
  screenshot,
  selectProject,
  settingField,
  verifyLedger,
  waitConnected,
  waitForActivity,
  waitForLink,
  waitForLossPoints,
  waitForSample,
  waitLoaded,
  type PageName,
} from '../support/ui-driver.js'
import {
  attachBridge,
  FakeNode,
  serveFakeDaemon,
  serveWithApiServer,
} from '../support/ui-fake-node.js'
import {
  activeNodeFixture,
  firstRunFixture,
  LM_KEY,
  MNIST_KEY,
  T0,
  UNKNOWN_KEY,
  type FixtureState,
} from '../support/ui-fixture.js'
import { waitUntil } from '../support/wait.js'

const PAGES: PageName[] = ['dashboard', 'projects', 'credits', 'settings', 'activity']
const testIds = (page: Page, id: string) => page.getByTestId(id)

describe('UI pages in Chromium against a fake node', { skip: chromiumMissing }, () => {
  const ui = useBuiltUi()

  async function open(
    fixture: FixtureState,
    { colorScheme = 'light', subscribe = true } = {} as {
      colorScheme?: 'light' | 'dark'
      subscribe?: boolean
    },
  ): Promise<{ page: Page; node: FakeNode }> {
    const node = new FakeNode(fixture)
    const { page } = await ui.open({
      colorScheme,
      prepare: (p) => attachBridge(p, node, { subscribe }),
    })
    await waitConnected(page)
    return { page, node }
  }

  // ---- First run ------------------------------------------------------------------------------

  it('first run: says whether this PC can help, then joining a project opens the dashboard', async () => {
    const { page, node } = await open(firstRunFixture())
    await testIds(page, 'first-run').waitFor()
    const verdict = testIds(page, 'preflight-verdict')
    assert.equal(await verdict.getAttribute('data-can-help'), 'true')
    const facts = (await testIds(page, 'preflight-facts').textContent()) ?? ''
    for (const expected of [
      'wasm on WebAssembly (2 threads)',
      'tfjs-node-gpu: no CUDA driver',
      'webgpu: measured slower: 2,730 samples/s (software adapter)',
      'wasm measured fastest: 19,363 samples/s',
      '17.0 GiB free of 24.0 GiB',
      '120 GiB free at /home/ada/.local/share/tandem',
      'online, 6 peers found',
    ])
      assert.ok(facts.includes(expected), `pre-flight facts lack "${expected}": ${facts}`)
    // The measured table: every backend's speed, the software adapter marked, the winner ticked.
    const rows = testIds(page, 'backend-speed')
    assert.equal(await rows.count(), 3)
    const gpu = rows.and(page.locator('[data-backend="webgpu"]'))
    assert.equal(await gpu.getAttribute('data-software'), 'true')
    assert.match((await gpu.textContent()) ?? '', /2,730.*software adapter/)
    const wasm = rows.and(page.locator('[data-backend="wasm"]'))
    assert.equal(await wasm.getAttribute('data-chosen'), 'true')
    assert.match((await wasm.textContent()) ?? '', /19,363/)
    await testIds(page, 'discover-project').nth(2).waitFor() // receipts and projects load apart
    assert.equal(await testIds(page, 'discover-project').count(), 3)
    await screenshot(page, 'ui-first-run-light')

    await page.getByRole('button', { name: 'Join MNIST digits' }).click()
    const call = await node.waitForCall('projects.join')
    assert.deepEqual(call.params, { project: MNIST_KEY })
    await waitForActivity(page, 'idle')
    assert.equal(await testIds(page, 'current-project').textContent(), 'MNIST digits')
  })

  it('first run: a machine that cannot help lists the problems', async () => {
    const fixture = firstRunFixture()
    fixture.preflight = {
      ...fixture.preflight,
      canHelp: false,
      problems: ['Less than 1 GiB of memory free', 'No peers reachable'],
      network: { online: false, peers: 0 },
    }
    const { page } = await open(fixture)
    await page.locator('[data-testid="preflight-verdict"][data-can-help="false"]').waitFor()
    const problems = await testIds(page, 'preflight-problems').locator('li').allTextContents()
    assert.deepEqual(problems, ['Less than 1 GiB of memory free', 'No peers reachable'])
    assert.match((await testIds(page, 'preflight-facts').textContent()) ?? '', /offline/)
  })

  // ---- Dashboard ------------------------------------------------------------------------------

  it('dashboard: activity with reason, round progress, throughput, backend and peers', async () => {
    const { page } = await open(activeNodeFixture())
    await waitForActivity(page, 'training')
    assert.equal(
      await testIds(page, 'activity-reason').textContent(),
      'computer idle for 12 minutes',
    )
    assert.equal(await testIds(page, 'current-project').textContent(), 'Tiny Shakespeare LM')
    assert.match((await testIds(page, 'current-round').textContent()) ?? '', /round 12/)
    const bar = testIds(page, 'round-progress')
    assert.equal(await bar.getAttribute('value'), '30')
    assert.equal(await bar.getAttribute('max'), '50')
    const card = (await testIds(page, 'round-card').textContent()) ?? ''
    assert.match(card, /step 30 of 50/)
    assert.match(card, /1 min 35 s/)
    assert.match((await testIds(page, 'throughput').textContent()) ?? '', /27\.4 samples\/s/)
    assert.equal(await testIds(page, 'backend').textContent(), 'wasm on WebAssembly (2 threads)')
    assert.equal(await testIds(page, 'peers').textContent(), '6')
    assert.equal(await waitForLossPoints(page, 55), 55)
    assert.match(await waitForSample(page, 12), /ROMEO/)
  })

  it('dashboard: pushed events move the progress bar and the activity', async () => {
    const { page, node } = await open(activeNodeFixture())
    await waitForActivity(page, 'training')
    await node.push('progress', { ...node.state.status.progress!, step: 45, etaSec: 20 })
    await page.locator('[data-testid="round-progress"][value="45"]').waitFor()
    await node.push('status', {
      ...node.state.status,
      activity: 'waiting',
      reason: 'round 13 has not opened yet',
    })
    await waitForActivity(page, 'waiting')
    assert.equal(
      await testIds(page, 'activity-reason').textContent(),
      'round 13 has not opened yet',
    )
  })

  it('dashboard: the loss chart grows when a loss event is pushed, and ignores others', async () => {
    const { page, node } = await open(activeNodeFixture())
    const before = await waitForLossPoints(page, 55)
    const point = {
      t: T0 + 13 * 600_000,
      project: LM_KEY,
      round: 13,
      step: 0,
      loss: 1.9,
      kind: 'train' as const,
    }
    await node.push('loss', point)
    assert.equal(await waitForLossPoints(page, before + 1), before + 1)
    assert.match((await testIds(page, 'latest-loss').textContent()) ?? '', /1\.9 \(round 13\)/)
    // A point of another project and a malformed event change nothing; the next good point shows
    // that both were processed (events arrive in order) without sleeping.
    await node.push('loss', { ...point, project: MNIST_KEY, t: point.t + 1 })
    await node.pushRaw({ event: 'loss', data: { ...point, loss: 'NaN?' } })
    await node.pushRaw({ event: 'no-such-event', data: {} })
    await node.push('loss', { ...point, t: point.t + 2, step: 5, loss: 1.85 })
    await waitForLossPoints(page, before + 2)
    assert.equal(await lossPointCount(page), before + 2)
    await screenshot(page, 'ui-dashboard-light')
  })

  it('dashboard: LM sample text is fetched again when a round closes', async () => {
    const { page, node } = await open(activeNodeFixture())
    await waitForSample(page, 12)
    const calls = node.callsOf('model.sample').length
    node.state.samples[LM_KEY] = 'JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?'
    node.state.projects = node.state.projects.map((p) =>
      p.key === LM_KEY ? { ...p, round: 13 } : p,
    )
    await node.push('progress', { ...node.state.status.progress!, phase: 'closed', step: 50 })
    assert.match(await waitForSample(page, 13), /JULIET/)
    assert.equal(node.callsOf('model.sample').length, calls + 1)
    // A node that reports closed rounds only by their receipt refreshes the text too.
    node.state.samples[LM_KEY] = 'MERCUTIO:\nA plague o’ both your houses!'
    node.state.projects = node.state.projects.map((p) =>
      p.key === LM_KEY ? { ...p, round: 14 } : p,
    )
    await node.push('receipt', { ...node.state.receipts.at(-1)!, round: 13 })
    assert.match(await waitForSample(page, 14), /MERCUTIO/)
  })

  it('dashboard: a round that closes while sample text is generated is sampled too', async () => {
    const { page, node } = await open(activeNodeFixture())
    await waitForSample(page, 12)
    const calls = node.callsOf('model.sample').length
    const release = node.hold('model.sample') // the node takes its time generating
    const closeRound = async (round: number, text: string) => {
      node.state.samples[LM_KEY] = text
      node.state.projects = node.state.projects.map((p) => (p.key === LM_KEY ? { ...p, round } : p))
      await node.push('receipt', { ...node.state.receipts.at(-1)!, round: round - 1 })
    }
    await closeRound(13, 'JULIET:\nO Romeo, Romeo!')
    await waitUntil(() => node.callsOf('model.sample').length === calls + 1, 'a sample request')
    await closeRound(14, 'MERCUTIO:\nA plague o’ both your houses!')
    release()
    assert.match(await waitForSample(page, 14), /MERCUTIO/)
    assert.equal(node.callsOf('model.sample').length, calls + 2)
  })

  it('dashboard: pause now, pause after this round, and resume', async () => {
    const { page, node } = await open(activeNodeFixture())
    await waitForActivity(page, 'training')
    await pauseNode(page, 'after-round')
    assert.deepEqual((await node.waitForCall('node.pause')).params, { mode: 'after-round' })
    await testIds(page, 'pause-pending').waitFor()
    await page.getByRole('button', { name: 'Keep going (cancel pause)' }).click()
    await node.waitForCall('node.resume')
    await testIds(page, 'pause-pending').waitFor({ state: 'detached' })

    await pauseNode(page, 'now')
    await node.waitForCall('node.pause', (p) => (p as { mode: string }).mode === 'now')
    await waitForActivity(page, 'paused')
    await resumeNode(page)
    await waitForActivity(page, 'training')
  })

  // ---- Projects -------------------------------------------------------------------------------

  it('projects: an image model classifies an uploaded picture, decoded and grayed in the page', async () => {
    const { page, node } = await open(activeNodeFixture())
    const lm = await selectProject(page, 'Tiny Shakespeare LM')
    await lm.getByTestId('try-it').waitFor()
    assert.equal(await lm.getByTestId('try-it-image').count(), 0, 'no image upload for an LM')
    const detail = await selectProject(page, 'MNIST digits')
    const box = detail.getByTestId('try-it-image')
    await box.waitFor()
    // A 50×40 pure red PNG, drawn by the page's own canvas: the UI must scale it to 28×28 and
    // gray it (0.299·255 ≈ 76), which the fake node's brightness "model" reads as digit 3.
    const png = await page.evaluate(async () => {
      const canvas = document.createElement('canvas')
      canvas.width = 50
      canvas.height = 40
      const ctx = canvas.getContext('2d')!
      ctx.fillStyle = '#ff0000'
      ctx.fillRect(0, 0, 50, 40)
      const blob = await new Promise<Blob>((done) => canvas.toBlob((b) => done(b!), 'image/png'))
      return Array.from(new Uint8Array(await blob.arrayBuffer()))
    })
    await box
      .getByLabel(/Classify an image/)
      .setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: Buffer.from(png) })
    const call = await node.waitForCall('model.classify')
    const pixels = (call.params as { pixels: number[] }).pixels
    assert.equal(pixels.length, 28 * 28)
    assert.ok(
      pixels.every((v) => Math.abs(v - 76) <= 1),
      `gray ${pixels.slice(0, 4).join(', ')}`,
    )
    const classes = box.getByTestId('try-it-classes')
    await classes.waitFor()
    assert.equal(await classes.getAttribute('data-round'), '40')
    const items = classes.locator('li')
    assert.equal(await items.count(), 3)
    assert.equal(await items.first().getAttribute('data-class'), '3')
    assert.match((await items.first().textContent()) ?? '', /^Class 3: \d+%$/)
  })

  it('projects: manifest details, add by link, validation, coded errors, share, pause, leave', async () => {
    const { page, node } = await open(activeNodeFixture())
    let detail = await selectProject(page, 'Tiny Shakespeare LM')
    const facts = (await detail.getByTestId('project-facts').textContent()) ?? ''
    for (const expected of [
      'transformer, 471K parameters',
      'tinyshakespeare (1.1 MiB)',
      'Public domain',
      '2.0 MiB per round',
      '64.0 MiB',
      'centered-clip',
    ])
      assert.ok(facts.includes(expected), `manifest lacks "${expected}": ${facts}`)
    await screenshot(page, 'ui-projects-light')

    const section = pageSection(page, 'projects')
    const addField = section.getByLabel('Project key or link')
    await addField.fill('tandem://project/xyz')
    await section.getByTestId('field-error').waitFor()
    assert.equal(await addField.getAttribute('aria-invalid'), 'true')

    await addField.fill(`tandem://project/${UNKNOWN_KEY}`)
    await section.getByRole('button', { name: 'Add project' }).click()
    const err = section.locator('[data-testid="error"][data-code="PROJECT_NOT_FOUND"]')
    await err.waitFor()
    assert.match((await err.textContent()) ?? '', /PROJECT_NOT_FOUND.*no project d4d4d4d4/)

    await addField.fill(`tandem://project/${MNIST_KEY.toUpperCase()}`)
    await section.getByRole('button', { name: 'Add project' }).click()
    await section.getByTestId('join-ok').waitFor()
    assert.equal(await section.getByTestId('join-ok').textContent(), 'Joined MNIST digits.')
    assert.deepEqual(node.callsOf('projects.join').at(-1)?.params, { project: MNIST_KEY })
    await section
      .getByTestId('joined-projects')
      .getByTestId('project-item')
      .filter({ hasText: 'MNIST digits' })
      .waitFor()

    detail = await selectProject(page, 'Tiny Shakespeare LM')
    const share = detail.getByLabel('Resource share')
    await share.fill('0')
    await detail.getByTestId('field-error').waitFor()
    await share.fill('250')
    await share.press('Enter')
    assert.deepEqual((await node.waitForCall('projects.setShare')).params, {
      project: LM_KEY,
      share: 250,
    })
    await detail.getByTestId('share-saved').waitFor()

    await detail.getByRole('button', { name: 'Pause this project' }).click()
    await detail.getByRole('button', { name: 'Resume this project' }).waitFor()
    assert.deepEqual(node.callsOf('projects.setPaused').at(-1)?.params, {
      project: LM_KEY,
      paused: true,
    })

    await detail.getByRole('button', { name: 'Leave…' }).click()
    await detail.getByRole('button', { name: 'Leave project' }).click()
    await node.waitForCall('projects.leave')
    await section
      .getByTestId('discovered-projects')
      .getByTestId('project-item')
      .filter({ hasText: 'Tiny Shakespeare LM' })
      .waitFor()
  })

  // ---- Credits --------------------------------------------------------------------------------

  it('credits: totals, history chart, receipts with a detail view, and ledger verification', async () => {
    const { page, node } = await open(activeNodeFixture())
    const section = await gotoPage(page, 'credits')
    assert.equal(await testIds(page, 'credits-total').textContent(), '126.5')
    assert.match((await testIds(page, 'credits-rac').textContent()) ?? '', /31\.2/)
    assert.equal(await testIds(page, 'credits-chart').getAttribute('data-points'), '11')
    const rows = section.getByTestId('receipt-row')
    await rows.nth(10).waitFor() // receipts.list answers apart from credits.summary
    assert.equal(await rows.count(), 11)
    const rejected = section.locator('[data-testid="receipt-row"][data-accepted="false"]')
    assert.equal(await rejected.count(), 1)
    assert.match((await rejected.textContent()) ?? '', /rejected.*update norm 9\.1×/)
    await screenshot(page, 'ui-credits-light')

    // Open a receipt with the keyboard; Escape closes it and focus returns to the row's button.
    const opener = section.getByRole('button', { name: 'Receipt for Tiny Shakespeare LM round 7' })
    await opener.focus()
    await page.keyboard.press('Enter')
    const dialog = testIds(page, 'receipt-detail')
    await dialog.waitFor()
    assert.match(
      (await dialog.getByTestId('receipt-verdict').textContent()) ?? '',
      /Rejected: update norm/,
    )
    assert.match((await dialog.textContent()) ?? '', /07070707/)
    await screenshot(page, 'ui-receipt-detail-light')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    assert.ok(await opener.evaluate((el) => el === document.activeElement), 'focus went back')

    // Clicking anywhere on a row opens it too.
    await rows.filter({ hasText: '14' }).first().locator('td').nth(2).click()
    await dialog.getByRole('heading', { name: 'Tiny Shakespeare LM, round 11' }).waitFor()
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'detached' })

    let report = await verifyLedger(page, 'Tiny Shakespeare LM')
    assert.equal(await report.getAttribute('data-ok'), 'true')
    assert.equal(await report.getByTestId('verify-round').count(), 11)

    node.state.verify[LM_KEY] = {
      project: LM_KEY,
      ok: false,
      rounds: [
        { round: 1, ok: true, problems: [] },
        {
          round: 2,
          ok: false,
          problems: [
            { code: 'LEDGER_CREDIT_MISMATCH', message: 'receipt credits 12.5, recomputed 10' },
          ],
        },
      ],
    }
    report = await verifyLedger(page, 'Tiny Shakespeare LM')
    await section.locator('[data-testid="verify-report"][data-ok="false"]').waitFor()
    assert.match((await report.textContent()) ?? '', /1 of 2 rounds have problems/)
    assert.match((await report.textContent()) ?? '', /LEDGER_CREDIT_MISMATCH receipt credits 12\.5/)
  })

  it('credits: pushed receipt and credits events update the table and totals', async () => {
    const { page, node } = await open(activeNodeFixture())
    const section = await gotoPage(page, 'credits')
    await section.getByTestId('receipt-row').nth(10).waitFor()
    const last = node.state.receipts.at(-1)!
    await node.push('receipt', {
      ...last,
      round: 12,
      closedAt: last.closedAt + 600_000,
      credits: 20,
    })
    await node.push('credits', {
      ...node.state.credits,
      total: 146.5,
      history: [...node.state.credits.history, { t: last.closedAt + 600_000, total: 146.5 }],
    })
    await section.getByTestId('receipt-row').nth(11).waitFor()
    await page.locator('[data-testid="credits-total"]', { hasText: '146.5' }).waitFor()
    assert.equal(await testIds(page, 'credits-chart').getAttribute('data-points'), '12')
    // Newest first.
    assert.match((await section.getByTestId('receipt-row').first().textContent()) ?? '', /^12/)
    const dialog = await openReceipt(page, 'Tiny Shakespeare LM', 12)
    assert.match((await dialog.textContent()) ?? '', /Credits20/)
    assert.equal(await dialog.getByTestId('late-dispute').count(), 0)
    await dialog.getByRole('button', { name: 'Close' }).click()

    // Rejected as late, though this computer sent it 20 s before the deadline by its own clock:
    // the dialog shows the three times and says so.
    const deadline = last.closedAt + 1_100_000
    await node.push('receipt', {
      ...last,
      round: 13,
      closedAt: deadline + 30_000,
      accepted: false,
      reason: 'late',
      credits: 0,
      quality: 0,
      offeredAt: deadline - 20_000,
      receivedAt: deadline + 25_000,
      deadline,
    })
    await section.getByTestId('receipt-row').nth(12).waitFor()
    const late = await openReceipt(page, 'Tiny Shakespeare LM', 13)
    const text = (await late.textContent()) ?? ''
    assert.match(text, /Rejected: late/)
    assert.match(text, /Sent \(this computer\).*Received \(host\).*Deadline/)
    assert.match(
      (await late.getByTestId('late-dispute').textContent()) ?? '',
      /sent the update at .* before the deadline/,
    )
    await screenshot(page, 'ui-receipt-late-light')
  })

  it('a failed load shows the error code and message where the data would be', async () => {
    const fixture = activeNodeFixture()
    const node = new FakeNode(fixture)
    node.failNext('credits.summary', 'LEDGER_UNAVAILABLE', 'no peer holding the ledger is online')
    const { page } = await ui.open({ prepare: (p) => attachBridge(p, node) })
    const section = await gotoPage(page, 'credits')
    const error = section.locator('[data-testid="load-error"][data-code="LEDGER_UNAVAILABLE"]')
    await error.waitFor()
    assert.match(
      (await error.textContent()) ?? '',
      /LEDGER_UNAVAILABLE no peer holding the ledger is online/,
    )

    await gotoPage(page, 'dashboard')
    node.failNext('node.pause', 'ENGINE_FAILED', 'the training worker exited')
    await pauseNode(page, 'now')
    await page.locator('[data-testid="error"][data-code="ENGINE_FAILED"]').waitFor()
  })

  // ---- Settings -------------------------------------------------------------------------------

  it('settings: a control for every field, validated as typed, applied live', async () => {
    const { page, node } = await open(activeNodeFixture())
    const section = await gotoPage(page, 'settings')
    const keys = Settings.keyof().options.filter((k) => k !== 'version' && k !== 'schedule')
    for (const key of keys) await settingField(page, key).waitFor()
    assert.equal(await section.locator('[data-setting]').count(), keys.length)
    await testIds(page, 'schedule-editor').waitFor()

    // Invalid as typed: the contract's message next to the field, nothing sent.
    const idle = settingField(page, 'idleMinutes').getByLabel('Away after')
    await idle.fill('0')
    const idleError = settingField(page, 'idleMinutes').getByTestId('error-idleMinutes')
    await idleError.waitFor()
    assert.match((await idleError.textContent()) ?? '', /1/)
    assert.equal(await idle.getAttribute('aria-invalid'), 'true')
    await idle.fill('abc')
    assert.equal(await idleError.textContent(), 'Enter a number')
    await idle.fill('15')
    await idleError.waitFor({ state: 'detached' })
    await idle.blur()
    assert.deepEqual((await node.waitForCall('settings.set')).params, { idleMinutes: 15 })
    await settingField(page, 'idleMinutes').getByTestId('saved').waitFor()
    assert.ok(
      node
        .callsOf('settings.set')
        .every((c) => (c.params as { idleMinutes?: number }).idleMinutes !== 0),
      'an invalid value was sent',
    )

    const duty = settingField(page, 'dutyCycle').getByLabel('Duty cycle')
    await duty.fill('2')
    await settingField(page, 'dutyCycle').getByTestId('error-dutyCycle').waitFor()
    await duty.fill('0.5')
    await duty.press('Enter')
    await node.waitForCall('settings.set', (p) => (p as { dutyCycle?: number }).dutyCycle === 0.5)

    await settingField(page, 'pauseOnBattery').getByLabel('Pause while on battery').check()
    await node.waitForCall(
      'settings.set',
      (p) => (p as { pauseOnBattery?: boolean }).pauseOnBattery === true,
    )
    await settingField(page, 'backend').getByLabel('Backend').selectOption('wasm')
    await node.waitForCall('settings.set', (p) => (p as { backend?: string }).backend === 'wasm')

    // Schedule windows: add one, type a bad time (error, not sent), fix it (sent).
    const editor = testIds(page, 'schedule-editor')
    await editor.getByRole('button', { name: 'Add window' }).click()
    type Sched = { schedule?: { windows: Array<{ start: string }> } }
    await node.waitForCall('settings.set', (p) => (p as Sched).schedule?.windows.length === 2)
    const start = editor.getByLabel('Window 2 start')
    await start.fill('25:00')
    await editor.getByTestId('error-schedule').waitFor()
    assert.match((await editor.getByTestId('error-schedule').textContent()) ?? '', /HH:MM/)
    await start.fill('08:30')
    await start.blur()
    await node.waitForCall(
      'settings.set',
      (p) => (p as Sched).schedule?.windows[1]?.start === '08:30',
    )
    await editor.getByRole('button', { name: 'Remove window 1' }).click()
    await node.waitForCall('settings.set', (p) => (p as Sched).schedule?.windows.length === 1)

    // A change made elsewhere arrives as a settings event and shows up.
    await node.push('settings', { ...node.state.settings, maxThreads: 4 })
    await page.locator('[data-setting="maxThreads"] input[value="4"]').waitFor()

    // The node refusing a value shows its code next to the field.
    node.failNext('settings.set', 'SETTINGS_INVALID', 'maxThreads is more than this machine has')
    const threads = settingField(page, 'maxThreads').getByLabel('CPU threads')
    await threads.fill('200')
    await threads.blur()
    await settingField(page, 'maxThreads')
      .locator('[data-testid="save-error"][data-code="SETTINGS_INVALID"]')
      .waitFor()
    await screenshot(page, 'ui-settings-light')
  })

  // ---- Activity -------------------------------------------------------------------------------

  it('activity: log entries filtered by level and subsystem, live log events', async () => {
    const { page, node } = await open(activeNodeFixture())
    const section = await gotoPage(page, 'activity')
    const rows = section.getByTestId('log-row')
    await rows.nth(24).waitFor()
    assert.equal(await rows.count(), 25, 'info and above hides the 5 debug lines')
    await section.getByLabel('Level').selectOption('error')
    await section.locator('[data-testid="log-count"]', { hasText: 'Showing 5 of 30' }).waitFor()
    assert.deepEqual(
      [...new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-level'))))],
      ['error'],
    )
    await section.getByLabel('Level').selectOption('debug')
    await section.getByLabel('Subsystem').selectOption('net')
    await section.locator('[data-testid="log-count"]', { hasText: 'Showing 6 of 30' }).waitFor()

    await node.push('log', {
      t: T0 + 3_600_000,
      level: 'warn',
      subsystem: 'net',
      msg: 'peer 7 banned: WIRE_BAD_SIGNATURE',
    })
    await section.locator('[data-testid="log-count"]', { hasText: 'Showing 7 of 31' }).waitFor()
    assert.match((await rows.first().textContent()) ?? '', /peer 7 banned/)
    await section.getByLabel('Subsystem').selectOption('all')
    await screenshot(page, 'ui-activity-light')
  })

  // ---- Keyboard, themes, layout -----------------------------------------------------------

  it('keyboard: Tab reaches the nav, Enter opens a page and focus lands on its heading', async () => {
    const { page } = await open(activeNodeFixture())
    await waitForActivity(page, 'training')
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content')
    const focusedTestId = () =>
      page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null)
    for (let i = 0; i < 10 && (await focusedTestId()) !== 'nav-credits'; i++)
      await page.keyboard.press('Tab')
    assert.equal(await focusedTestId(), 'nav-credits', 'Tab never reached the Credits link')
    await page.keyboard.press('Enter')
    await pageSection(page, 'credits').waitFor()
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Credits')
    assert.equal(await testIds(page, 'nav-credits').getAttribute('aria-current'), 'page')
    // Any nav link works the same way.
    await testIds(page, 'nav-settings').focus()
    await page.keyboard.press('Enter')
    await pageSection(page, 'settings').waitFor()
    assert.match(page.url(), /#\/settings$/)
  })

  it('themes: the toggle overrides the system preference and is remembered', async () => {
    const { page } = await open(activeNodeFixture(), { colorScheme: 'light' })
    const bg = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
    const light = await bg()
    await testIds(page, 'theme-choice').selectOption('dark')
    await page.waitForFunction(
      (before) => getComputedStyle(document.documentElement).backgroundColor !== before,
      light,
    )
    const dark = await bg()
    await page.reload()
    await waitConnected(page)
    assert.equal(await bg(), dark, 'the choice survives a reload')
    for (const name of PAGES) {
      await gotoPage(page, name)
      if (name === 'dashboard') await waitForLossPoints(page, 55)
      await screenshot(page, `ui-${name}-dark`)
    }
    await testIds(page, 'theme-choice').selectOption('system')
    assert.equal(await bg(), light)
  })

  it('dark system theme without a choice; every page fits 1024×700 without sideways scrolling', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page } = await open(activeNodeFixture(), { colorScheme })
      for (const name of PAGES) {
        await gotoPage(page, name)
        assert.ok((await horizontalOverflow(page)) <= 0, `${name} (${colorScheme}) is too wide`)
      }
    }
    const { page } = await open(firstRunFixture())
    await testIds(page, 'first-run').waitFor()
    assert.ok((await horizontalOverflow(page)) <= 0, 'first run is too wide')
  })

  it('a bridge without subscribe still stays current by polling', async () => {
    const { page, node } = await open(activeNodeFixture(), { subscribe: false })
    await waitForActivity(page, 'training')
    node.state.status = { ...node.state.status, activity: 'offline', reason: 'no network' }
    await waitForActivity(page, 'offline')
  })
})

describe('UI over the daemon WebSocket transport', { skip: chromiumMissing }, () => {
  let browser: Browser

  before(async () => {
    assert.ok(existsSync(`${BUILT_UI}/index.html`), 'run `npm run build:app` first (npm test does)')
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
  })

  // Chromium logs each refused WebSocket handshake (and the 401 of the token probe) as a console
  // error; those are the point here.
  const socketErrors = [/WebSocket connection to .* failed/, /status of 401 \(Unauthorized\)/]

  it('takes the token from the fragment, gets live events, reconnects after a drop', async () => {
    const node = new FakeNode(activeNodeFixture())
    const daemon = await serveFakeDaemon(BUILT_UI, node)
    const ui = await openUi(browser, daemon.url, { allowErrors: socketErrors })
    try {
      const { page } = ui
      await waitConnected(page)
      assert.ok(!page.url().includes('token'), `the token stayed in the address: ${page.url()}`)
      assert.equal(await page.evaluate(() => sessionStorage.getItem('tandem.token')), daemon.token)
      await waitForActivity(page, 'training')
      const points = await waitForLossPoints(page, 55)
      await node.push('loss', {
        t: T0 + 9e6,
        project: LM_KEY,
        round: 13,
        step: 1,
        loss: 1.7,
        kind: 'train',
      })
      await waitForLossPoints(page, points + 1)

      // The daemon goes away: the page says so, keeps the data, and comes back on its own.
      daemon.refuse(true)
      daemon.dropAll()
      await waitForLink(page, 'closed')
      await testIds(page, 'disconnected-banner').waitFor()
      await waitForActivity(page, 'training')
      await screenshot(page, 'ui-disconnected-light')
      const statusCalls = node.callsOf('node.status').length
      // "Retry now" must not race the automatic retry: wait until the backoff has grown past 5 s
      // (the page says when it will retry), let the daemon accept again, click, and expect the
      // link back before that time.
      const retryAt = Number(
        await page
          .waitForFunction(
            () => {
              const banner = document.querySelector('[data-testid="disconnected-banner"]')
              const at = Number(banner?.getAttribute('data-retry-at'))
              return at - Date.now() > 5000 ? at : null
            },
            undefined,
            { timeout: 30_000 },
          )
          .then((handle) => handle.jsonValue()),
      )
      daemon.refuse(false)
      await page.getByRole('button', { name: 'Retry now' }).click()
      await waitConnected(page)
      assert.ok(Date.now() < retryAt, 'the link came back only with the automatic retry')
      await testIds(page, 'disconnected-banner').waitFor({ state: 'detached' })
      await waitLoaded(page, 2)
      assert.ok(node.callsOf('node.status').length > statusCalls, 'no refetch after reconnecting')

      // A reload has no fragment any more: the token comes from sessionStorage.
      await page.reload()
      await waitConnected(page)
      await waitForActivity(page, 'training')
      assert.deepEqual(ui.errors, [])
    } finally {
      await ui.page.close()
      await daemon.close()
    }
  })

  it('works against the daemon’s real API server (core/server): token, events, refusal, stop', async () => {
    const node = new FakeNode(activeNodeFixture())
    const server = await serveWithApiServer(BUILT_UI, node)
    const refused = await openUi(browser, `${server.url}#token=${'0'.repeat(64)}`, {
      allowErrors: socketErrors,
    })
    // Once the daemon is gone, the page's next retry and its probe find the port closed.
    const ui = await openUi(browser, server.uiUrl, {
      allowErrors: [...socketErrors, /net::ERR_CONNECTION_REFUSED/],
    })
    try {
      await waitForLink(refused.page, 'rejected')
      assert.match(
        (await testIds(refused.page, 'rejected-banner').textContent()) ?? '',
        /UNAUTHORIZED/,
      )

      const { page } = ui
      await waitConnected(page)
      await waitLoaded(page)
      assert.ok(!page.url().includes('token'))
      await waitForActivity(page, 'training')
      const points = await waitForLossPoints(page, 55)
      await node.push('loss', {
        t: T0 + 9e6,
        project: LM_KEY,
        round: 13,
        step: 1,
        loss: 1.7,
        kind: 'train',
      })
      await waitForLossPoints(page, points + 1)
      await gotoPage(page, 'settings')
      const idle = settingField(page, 'idleMinutes').getByLabel('Away after')
      await idle.fill('9')
      await idle.blur()
      await node.waitForCall(
        'settings.set',
        (p) => (p as { idleMinutes?: number }).idleMinutes === 9,
      )
      await settingField(page, 'idleMinutes').getByTestId('saved').waitFor()

      // The daemon stopping closes the socket with a reason; the page says it is disconnected.
      await server.close()
      await waitForLink(page, 'closed')
      await testIds(page, 'disconnected-banner').waitFor()
      assert.deepEqual(ui.errors, [])
      assert.deepEqual(refused.errors, [])
    } finally {
      await ui.page.close()
      await refused.page.close()
      await server.close()
    }
  })

  it('a refused token says so instead of retrying forever', async () => {
    const node = new FakeNode(activeNodeFixture())
    const daemon = await serveFakeDaemon(BUILT_UI, node)
    const url = daemon.url.replace(/#token=.*/, '#token=0badc0de')
    const ui = await openUi(browser, url, { allowErrors: socketErrors })
    try {
      await waitForLink(ui.page, 'rejected')
      assert.equal(await testIds(ui.page, 'node-state').textContent(), 'Access refused')
      const banner = testIds(ui.page, 'rejected-banner')
      await banner.waitFor()
      assert.match((await banner.textContent()) ?? '', /UNAUTHORIZED/)
      assert.equal(node.calls.length, 0)
      assert.deepEqual(ui.errors, [])
    } finally {
      await ui.page.close()
      await daemon.close()
    }
  })
})
