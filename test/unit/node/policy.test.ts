/** The run policy: pause, battery, schedule windows (local time), idle-only, and nextChange. */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import type { ScheduleWindow } from '../../../core/api/contract.js'
import { defaultSettings } from '../../../core/node/settings.js'
import { inSchedule, nextChange, runDecision, type PolicyEnv } from '../../../core/node/policy.js'

// Local-time dates: the policy works in the process's time zone, so the tests build dates the same
// way. 2026-11-23 is a Monday.
const mon = (h: number, m = 0) => new Date(2026, 10, 23, h, m)
const day = (d: number, h: number, m = 0) => new Date(2026, 10, 22 + d, h, m) // d: 0 = Sunday

const desktop: PolicyEnv = { headless: false, idleSec: 3600, onBattery: false }

function withSchedule(
  windows: ScheduleWindow[],
  extra: Partial<ReturnType<typeof defaultSettings>> = {},
) {
  return { ...defaultSettings(4), schedule: { enabled: true, windows }, ...extra }
}

describe('runDecision', () => {
  it('runs with the defaults on mains power', () => {
    const d = runDecision({
      settings: defaultSettings(4),
      now: mon(12),
      env: desktop,
      userPaused: false,
    })
    assert.deepEqual(d, { run: true, activity: 'training', reason: 'no limits apply' })
  })

  it('the user pause wins over everything', () => {
    const d = runDecision({
      settings: withSchedule([]),
      now: mon(12),
      env: { ...desktop, onBattery: true },
      userPaused: true,
    })
    assert.deepEqual(d, { run: false, activity: 'paused', reason: 'paused by you' })
  })

  it('a hold from the desktop shell waits with its reason; only the user pause outranks it', () => {
    const settings = defaultSettings(4)
    const held = { ...desktop, hold: 'the screen is locked', onBattery: true }
    assert.deepEqual(runDecision({ settings, now: mon(12), env: held, userPaused: false }), {
      run: false,
      activity: 'waiting',
      reason: 'the screen is locked',
    })
    const paused = runDecision({ settings, now: mon(12), env: held, userPaused: true })
    assert.equal(paused.activity, 'paused')
    const released = runDecision({ settings, now: mon(12), env: desktop, userPaused: false })
    assert.equal(released.run, true)
  })

  it('pauses on battery only when asked to, and treats an unknown power source as mains', () => {
    const s = defaultSettings(4)
    const onBattery = { ...desktop, onBattery: true }
    assert.equal(
      runDecision({ settings: s, now: mon(12), env: onBattery, userPaused: false }).reason,
      'on battery power',
    )
    const keepGoing = { ...s, pauseOnBattery: false }
    assert.equal(
      runDecision({ settings: keepGoing, now: mon(12), env: onBattery, userPaused: false }).run,
      true,
    )
    const unknown = { headless: false, idleSec: 3600 }
    assert.equal(
      runDecision({ settings: s, now: mon(12), env: unknown, userPaused: false }).run,
      true,
    )
  })

  it('follows schedule windows: start inclusive, end exclusive, and says when the next opens', () => {
    const s = withSchedule([{ day: 1, start: '09:00', end: '17:00' }])
    const at = (now: Date) => runDecision({ settings: s, now, env: desktop, userPaused: false })
    assert.equal(at(mon(8, 59)).run, false)
    assert.equal(at(mon(9, 0)).run, true)
    assert.match(at(mon(9, 0)).reason, /in schedule window Mon 09:00–17:00/)
    assert.equal(at(mon(16, 59)).run, true)
    const late = at(mon(17, 0))
    assert.equal(late.run, false)
    assert.equal(late.activity, 'waiting')
    assert.equal(late.reason, 'outside the schedule; next window Mon 09:00')
    assert.equal(at(day(2, 12)).run, false) // Tuesday
  })

  it('end "00:00" (or not after start) runs until midnight; 00:00–00:00 is the whole day', () => {
    const evening = withSchedule([{ day: 1, start: '20:00', end: '00:00' }])
    assert.equal(inSchedule(evening, mon(23, 59)), true)
    assert.equal(inSchedule(evening, day(2, 0, 0)), false)
    const backwards = withSchedule([{ day: 1, start: '20:00', end: '06:00' }])
    assert.equal(inSchedule(backwards, mon(23, 0)), true)
    assert.equal(inSchedule(backwards, mon(5, 0)), false)
    const allDay = withSchedule([{ day: 1, start: '00:00', end: '00:00' }])
    assert.equal(inSchedule(allDay, mon(0, 0)), true)
    assert.equal(inSchedule(allDay, mon(23, 59)), true)
    assert.equal(inSchedule(allDay, day(0, 12)), false)
  })

  it('an enabled schedule without windows never runs, and says why', () => {
    const d = runDecision({
      settings: withSchedule([]),
      now: mon(12),
      env: desktop,
      userPaused: false,
    })
    assert.deepEqual(d, {
      run: false,
      activity: 'waiting',
      reason: 'the schedule is on but has no windows',
    })
  })

  it('idle-only waits for the user to be away long enough', () => {
    const s = { ...defaultSettings(4), runWhenIdleOnly: true, idleMinutes: 5 }
    const at = (env: PolicyEnv) =>
      runDecision({ settings: s, now: mon(12), env, userPaused: false })
    assert.deepEqual(at({ ...desktop, idleSec: 30 }), {
      run: false,
      activity: 'waiting',
      reason: 'computer in use (idle 30 s of 5 min)',
    })
    assert.equal(at({ ...desktop, idleSec: 299 }).run, false)
    const away = at({ ...desktop, idleSec: 300 })
    assert.equal(away.run, true)
    assert.equal(away.reason, 'computer idle for 5 min')
    assert.equal(at({ headless: false }).reason, 'waiting for the idle time report')
  })

  it('idle-only trains while the screen is locked, whatever the idle timer says', () => {
    const settings = { ...defaultSettings(4), runWhenIdleOnly: true, idleMinutes: 10 }
    const env = { ...desktop, idleSec: 5 }
    assert.equal(runDecision({ settings, now: mon(12), env, userPaused: false }).run, false)
    const locked = runDecision({
      settings,
      now: mon(12),
      env: { ...env, screenLocked: true },
      userPaused: false,
    })
    assert.deepEqual(locked, { run: true, activity: 'training', reason: 'the screen is locked' })
  })

  it('idle-only is ignored headless, and the reason says so', () => {
    const s = { ...defaultSettings(4), runWhenIdleOnly: true }
    const d = runDecision({ settings: s, now: mon(12), env: { headless: true }, userPaused: false })
    assert.equal(d.run, true)
    assert.match(d.reason, /idle-only ignored: headless/)
  })
})

describe('nextChange', () => {
  it('is null without a schedule, without windows, or when the windows cover the week', () => {
    assert.equal(nextChange(defaultSettings(4), mon(12)), null)
    assert.equal(nextChange(withSchedule([]), mon(12)), null)
    const week = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day: d, start: '00:00', end: '00:00' }))
    assert.equal(nextChange(withSchedule(week), mon(12)), null)
  })

  it('finds the close of the current window and the opening of the next', () => {
    const s = withSchedule([
      { day: 1, start: '09:00', end: '12:00' },
      { day: 1, start: '12:00', end: '17:00' }, // adjacent: no flip at noon
      { day: 3, start: '22:00', end: '00:00' },
      { day: 4, start: '00:00', end: '06:00' }, // across midnight: no flip at 00:00
    ])
    assert.deepEqual(nextChange(s, mon(10)), mon(17))
    assert.deepEqual(nextChange(s, mon(17)), day(3, 22))
    assert.deepEqual(nextChange(s, day(3, 22)), day(4, 6))
    assert.deepEqual(nextChange(s, day(4, 6)), day(8, 9)) // next Monday
  })

  it('property: the answer holds until the returned instant, and flips exactly there', () => {
    const hm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    const text = ([h, m]: [number, number]) =>
      `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`
    const window = fc.record({
      day: fc.integer({ min: 0, max: 6 }),
      start: hm.map(text),
      end: hm.map(text),
    })
    fc.assert(
      fc.property(
        fc.array(window, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 7 * 24 * 60 - 1 }),
        (windows, offset) => {
          const s = withSchedule(windows)
          const now = new Date(2026, 10, 22, 0, offset)
          const was = inSchedule(s, now)
          const next = nextChange(s, now)
          const horizon = next ? next.getTime() : now.getTime() + 8 * 86_400_000
          for (let t = now.getTime(); t < horizon; t += 60_000) {
            if (inSchedule(s, new Date(t)) !== was) return false
          }
          return next === null || inSchedule(s, next) !== was
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('schedule across daylight-saving changes', () => {
  const saved = process.env['TZ']
  after(() => {
    if (saved === undefined) delete process.env['TZ']
    else process.env['TZ'] = saved
  })

  it('uses wall-clock time on the day clocks go forward (Europe/Berlin, 2026-03-29)', () => {
    process.env['TZ'] = 'Europe/Berlin'
    const s = withSchedule([{ day: 0, start: '01:00', end: '05:00' }])
    const start = new Date(2026, 2, 29, 0, 30)
    const open = nextChange(s, start)
    assert.deepEqual(open, new Date(2026, 2, 29, 1, 0))
    const close = nextChange(s, open!)
    assert.deepEqual(close, new Date(2026, 2, 29, 5, 0))
    // The night is an hour short: 3 real hours between 01:00 and 05:00 local.
    assert.equal((close!.getTime() - open!.getTime()) / 3_600_000, 3)
  })
})
