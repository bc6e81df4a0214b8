/**
 * Driving the Tandem UI by what a user sees: named pages, labelled controls and the data-testid
 * states the UI exposes. Nothing here knows whether a fake or a real node answers, so the UI
 * component tests and the end-to-end test against `tandem daemon` share these helpers. Every wait
 * is on a named UI state with a deadline, never a sleep.
 */
import type { Browser, Locator, Page } from 'playwright-core'
import { artifactPath } from './artifacts.js'

export type PageName = 'dashboard' | 'projects' | 'credits' | 'settings' | 'activity'
export type Activity = 'training' | 'paused' | 'idle' | 'waiting' | 'offline'

export interface OpenedUi {
  page: Page
  /** Uncaught exceptions and console errors the page produced so far. */
  errors: string[]
}

export interface OpenOptions {
  colorScheme?: 'light' | 'dark'
  /** Runs before navigation: inject a bridge, expose functions. */
  prepare?: (page: Page) => Promise<void>
  /** Console errors that are expected (matched against the text), e.g. a refused socket. */
  allowErrors?: RegExp[]
}

export async function openUi(
  browser: Browser,
  url: string,
  { colorScheme = 'light', prepare, allowErrors = [] }: OpenOptions = {},
): Promise<OpenedUi> {
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme })
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !allowErrors.some((re) => re.test(msg.text())))
      errors.push(msg.text())
  })
  await prepare?.(page)
  await page.goto(url)
  await page.getByRole('heading', { name: 'Tandem', level: 1 }).waitFor()
  return { page, errors }
}

export const linkState = (page: Page) => page.getByTestId('node-state')

export async function waitForLink(
  page: Page,
  kind: 'open' | 'connecting' | 'closed' | 'rejected' | 'none',
): Promise<void> {
  await page.locator(`[data-testid="node-state"][data-link="${kind}"]`).waitFor()
}

export const waitConnected = (page: Page) => waitForLink(page, 'open')

/**
 * Waits until the UI finished its initial fetches `times` times (once per connection: a reconnect
 * fetches everything again).
 */
export async function waitLoaded(page: Page, times = 1): Promise<void> {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-loaded]')?.getAttribute('data-loaded')) >= n,
    times,
  )
}

/** The page's section, once it is on screen. */
export function pageSection(page: Page, name: PageName): Locator {
  return page.locator(`section[data-page="${name}"]`)
}

export async function gotoPage(page: Page, name: PageName): Promise<Locator> {
  await page.getByTestId(`nav-${name}`).click()
  const section = pageSection(page, name)
  await section.waitFor()
  return section
}

// ---- Dashboard ------------------------------------------------------------------------------

export async function waitForActivity(page: Page, activity: Activity): Promise<void> {
  await page.locator(`[data-testid="activity"][data-activity="${activity}"]`).waitFor()
}

/** Waits until the activity is any of `activities`; returns the one shown. */
export async function waitForActivityIn(page: Page, activities: Activity[]): Promise<Activity> {
  const any = activities.map((a) => `[data-testid="activity"][data-activity="${a}"]`).join(', ')
  const shown = page.locator(any)
  await shown.waitFor()
  return (await shown.getAttribute('data-activity')) as Activity
}

/** Waits until the activity's reason matches (or, with `matches: false`, no longer matches). */
export async function waitForReason(page: Page, re: RegExp, matches = true): Promise<string> {
  await page.waitForFunction(
    ([source, flags, want]) => {
      const text = document.querySelector('[data-testid="activity-reason"]')?.textContent
      return text != null && new RegExp(source, flags).test(text) === want
    },
    [re.source, re.flags, matches] as const,
  )
  return (await page.getByTestId('activity-reason').textContent()) ?? ''
}

/**
 * Waits until the round's progress moves on from what it shows now (a later step, or another
 * round); returns the new step.
 */
export async function waitForProgressMove(page: Page): Promise<number> {
  const shown = () =>
    page.evaluate(() => {
      const bar = document.querySelector('[data-testid="round-progress"]')
      const round = document.querySelector('[data-testid="current-round"]')?.textContent
      return `${round}|${bar?.getAttribute('value')}|${bar?.getAttribute('max')}`
    })
  const before = await shown()
  await page.waitForFunction((was) => {
    const bar = document.querySelector('[data-testid="round-progress"]')
    const round = document.querySelector('[data-testid="current-round"]')?.textContent
    return `${round}|${bar?.getAttribute('value')}|${bar?.getAttribute('max')}` !== was
  }, before)
  return Number(await page.getByTestId('round-progress').getAttribute('value'))
}

/** Waits until the round's progress bar is at step ≥ `atLeast` of a known step count. */
export async function waitForProgressStep(page: Page, atLeast: number): Promise<number> {
  await page.waitForFunction((n) => {
    const bar = document.querySelector('[data-testid="round-progress"]')
    const value = bar?.getAttribute('value')
    return value != null && Number(bar?.getAttribute('max')) > 1 && Number(value) >= n
  }, atLeast)
  return Number(await page.getByTestId('round-progress').getAttribute('value'))
}

/** The round card's phase, and whether it says the round is on hold; null with no round. */
export async function roundPhase(page: Page): Promise<{ phase: string; onHold: boolean } | null> {
  const label = page.getByTestId('round-phase')
  if ((await label.count()) === 0) return null
  return {
    phase: (await label.getAttribute('data-phase')) ?? '',
    onHold: (await label.getAttribute('data-on-hold')) === 'true',
  }
}

export async function lossPointCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('loss-chart').getAttribute('data-points'))
}

/** Waits until the loss chart holds at least `atLeast` points. */
export async function waitForLossPoints(page: Page, atLeast: number): Promise<number> {
  const chart = page.getByTestId('loss-chart')
  await chart.waitFor()
  await page.waitForFunction(
    (n) =>
      Number(document.querySelector('[data-testid="loss-chart"]')?.getAttribute('data-points')) >=
      n,
    atLeast,
  )
  return lossPointCount(page)
}

/** Waits for sample text from the model of round ≥ `round`; returns the text. */
export async function waitForSample(page: Page, round = 0): Promise<string> {
  await page.waitForFunction(
    (r) =>
      Number(document.querySelector('[data-testid="model-sample"]')?.getAttribute('data-round')) >=
      r,
    round,
  )
  return (await page.getByTestId('model-sample').textContent()) ?? ''
}

export async function pauseNode(page: Page, mode: 'now' | 'after-round'): Promise<void> {
  await page
    .getByRole('button', { name: mode === 'now' ? 'Pause now' : 'Pause after this round' })
    .click()
}

export async function resumeNode(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Resume' }).click()
}

// ---- Projects -------------------------------------------------------------------------------

/**
 * Pastes `text` into a field the way a person does: through the clipboard and Ctrl+V, so the page
 * sees a real paste (an input event with the whole key at once), not typed keys.
 */
export async function pasteInto(field: Locator, text: string): Promise<void> {
  const page = field.page()
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: new URL(page.url()).origin,
  })
  await page.evaluate((t) => navigator.clipboard.writeText(t), text)
  await field.focus()
  await field.press('ControlOrMeta+A')
  await field.press('ControlOrMeta+V')
  await page.waitForFunction(([el, want]) => (el as HTMLInputElement).value === want, [
    await field.elementHandle(),
    text,
  ] as const)
}

/** Adds a project by key or tandem:// link from the Projects page; waits for "Joined …". */
export async function joinProject(page: Page, ref: string): Promise<void> {
  const section = await gotoPage(page, 'projects')
  await section.getByLabel('Project key or link').fill(ref)
  await section.getByRole('button', { name: 'Add project' }).click()
  await section.getByTestId('join-ok').waitFor()
}

export async function selectProject(page: Page, name: string): Promise<Locator> {
  const section = await gotoPage(page, 'projects')
  await section.getByTestId('project-item').filter({ hasText: name }).click()
  const detail = section.getByTestId('project-detail')
  await detail.getByRole('heading', { name, level: 3 }).waitFor()
  return detail
}

// ---- Credits --------------------------------------------------------------------------------

export async function openReceipt(
  page: Page,
  projectName: string,
  round: number,
): Promise<Locator> {
  const section = await gotoPage(page, 'credits')
  await section.getByRole('button', { name: `Receipt for ${projectName} round ${round}` }).click()
  const dialog = page.getByTestId('receipt-detail')
  await dialog.waitFor()
  return dialog
}

/** Runs "Verify ledger" for one project; returns whether the ledger checked out. */
export async function verifyLedger(page: Page, projectName: string): Promise<Locator> {
  const section = await gotoPage(page, 'credits')
  await section.getByRole('button', { name: `Verify ledger of ${projectName}` }).click()
  const report = section.getByRole('region', { name: `Ledger check of ${projectName}` })
  await report.waitFor()
  return report
}

/** Waits until the receipts table lists at least `atLeast` receipts; returns their rows. */
export async function waitForReceipts(page: Page, atLeast = 1): Promise<Locator> {
  const section = await gotoPage(page, 'credits')
  const rows = section.getByTestId('receipt-row')
  await rows.nth(atLeast - 1).waitFor()
  return rows
}

// ---- Settings -------------------------------------------------------------------------------

export function settingField(page: Page, key: string): Locator {
  return page.locator(`[data-setting="${key}"]`)
}

/** Types a value into a settings field and leaves it; waits for "Saved". */
export async function setSetting(page: Page, key: string, value: string): Promise<void> {
  await gotoPage(page, 'settings')
  const field = settingField(page, key)
  const input = field.locator('input, select').first()
  if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(value)
  else {
    await input.fill(value)
    await input.blur()
  }
  await field.getByTestId('saved').waitFor()
}

/** Turns the schedule ("Only run inside these time windows") on or off; waits for "Saved". */
export async function setScheduleEnabled(page: Page, enabled: boolean): Promise<void> {
  await gotoPage(page, 'settings')
  const editor = page.getByTestId('schedule-editor')
  await editor.getByLabel('Only run inside these time windows').setChecked(enabled)
  await editor.getByTestId('saved').waitFor()
}

// ---- Artifacts ------------------------------------------------------------------------------

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = artifactPath(`${name}.png`)
  await page.screenshot({ path })
  return path
}

/**
 * How far content is wider than its box (≤ 0: no horizontal scrolling), for the document and for
 * the scrolling main area (which would otherwise hide a too-wide page inside itself).
 */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const main = document.getElementById('main')
    return Math.max(
      document.documentElement.scrollWidth - window.innerWidth,
      main ? main.scrollWidth - main.clientWidth : 0,
    )
  })
}
