/**
 * When may this machine train? One pure function of the settings, the clock, what the desktop
 * shell reports about the user (idle time, power source) and the user's pause button. Pure, so
 * every rule is tested with a fixed clock and the node and the UI give the same reason.
 *
 * Rules, first match wins (the reason shown is the one that matters most to the person):
 *   1. paused by the user                                  → 'paused'
 *   2. the desktop shell holds training (the computer is going to sleep,
 *      the OS reports heat or a CPU speed limit, a program the person listed is running) → 'waiting'
 *   3. on battery, with pauseOnBattery                      → 'waiting'
 *   4. schedule enabled and now outside every window        → 'waiting'
 *   5. idle-only and the user was active < idleMinutes ago  → 'waiting' (a locked screen counts
 *      as away)
 * otherwise the policy allows training: activity 'training'. The node shows 'idle' instead when it
 * is allowed but has no work (no joined project, or waiting for the next round): that is the
 * node's knowledge, not the policy's.
 *
 * Unknowns: a battery state that was never reported counts as mains power (desktops and servers
 * have no battery to report). Idle-only with no idle report yet waits: the shell reports within a
 * second of starting, and training before it does would be exactly what the person asked us not
 * to do. A headless daemon has no user session to watch, so idle-only is ignored there, and the
 * reason says so.
 *
 * Schedule windows are local wall-clock time: `day` 0 = Sunday, `start` inclusive, `end`
 * exclusive; an `end` of "00:00" or not after `start` means until midnight (so 00:00–00:00 is the
 * whole day). A night shift spanning midnight is two windows (Fri 22:00–00:00, Sat 00:00–06:00).
 * `nextChange` gives the instant the schedule's answer flips, so the node sets one timer instead
 * of polling. Local time follows the process's time zone, daylight saving included.
 */
import type { NodeActivity, ScheduleWindow, Settings } from '../api/contract.js'

export interface PolicyEnv {
  /** Seconds since the user last touched keyboard or mouse; undefined = not reported. */
  idleSec?: number
  /** undefined = not reported (treated as mains power). */
  onBattery?: boolean
  /**
   * Why the desktop shell holds training right now, in words for the person ("the screen is
   * locked"); undefined = no hold. The shell decides what holds (electron/main/power.ts).
   */
  hold?: string
  /** The screen is locked: the person is away, whatever the idle timer says. */
  screenLocked?: boolean
  /** No desktop session (the daemon): idle-only cannot apply. */
  headless: boolean
}

export interface PolicyInput {
  settings: Pick<Settings, 'runWhenIdleOnly' | 'idleMinutes' | 'pauseOnBattery' | 'schedule'>
  now: Date
  env: PolicyEnv
  userPaused: boolean
}

export interface RunDecision {
  run: boolean
  activity: Extract<NodeActivity, 'training' | 'paused' | 'waiting'>
  reason: string
}

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const

const DAY_MIN = 24 * 60

export function runDecision({ settings, now, env, userPaused }: PolicyInput): RunDecision {
  if (userPaused) return { run: false, activity: 'paused', reason: 'paused by you' }
  if (env.hold !== undefined) return { run: false, activity: 'waiting', reason: env.hold }
  if (settings.pauseOnBattery && env.onBattery === true) {
    return { run: false, activity: 'waiting', reason: 'on battery power' }
  }
  const notes: string[] = []
  if (settings.schedule.enabled) {
    const { windows } = settings.schedule
    if (windows.length === 0) {
      return { run: false, activity: 'waiting', reason: 'the schedule is on but has no windows' }
    }
    const open = windows.find((w) => inWindow(w, now))
    if (!open) {
      const next = nextChange(settings, now)
      const when = next ? `; next window ${WEEKDAYS[next.getDay()]} ${hhmm(next)}` : ''
      return { run: false, activity: 'waiting', reason: `outside the schedule${when}` }
    }
    notes.push(`in schedule window ${describeWindow(open)}`)
  }
  if (settings.runWhenIdleOnly) {
    const needSec = settings.idleMinutes * 60
    if (env.headless) {
      notes.push('idle-only ignored: headless, no user session to watch')
    } else if (env.screenLocked === true) {
      notes.push('the screen is locked')
    } else if (env.idleSec === undefined) {
      return { run: false, activity: 'waiting', reason: 'waiting for the idle time report' }
    } else if (env.idleSec < needSec) {
      return {
        run: false,
        activity: 'waiting',
        reason: `computer in use (idle ${duration(env.idleSec)} of ${settings.idleMinutes} min)`,
      }
    } else {
      notes.push(`computer idle for ${duration(env.idleSec)}`)
    }
  }
  return { run: true, activity: 'training', reason: notes.join('; ') || 'no limits apply' }
}

/** Whether the schedule allows training at `now` (true when the schedule is off). */
export function inSchedule(settings: Pick<Settings, 'schedule'>, now: Date): boolean {
  if (!settings.schedule.enabled) return true
  return settings.schedule.windows.some((w) => inWindow(w, now))
}

/**
 * The next instant after `now` at which `inSchedule` changes its answer; null when it never
 * will (schedule off, no windows, or windows that cover the whole week). Looks 8 days ahead,
 * which covers every weekly pattern.
 */
export function nextChange(settings: Pick<Settings, 'schedule'>, now: Date): Date | null {
  if (!settings.schedule.enabled || settings.schedule.windows.length === 0) return null
  const current = inSchedule(settings, now)
  const candidates: Date[] = []
  for (let d = 0; d <= 8; d++) {
    const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() + d)
    for (const w of settings.schedule.windows) {
      if (w.day !== day.getDay()) continue
      const [start, end] = bounds(w)
      for (const minute of [start, end]) {
        const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), 0, minute)
        if (t.getTime() > now.getTime()) candidates.push(t)
      }
    }
  }
  candidates.sort((a, b) => a.getTime() - b.getTime())
  return candidates.find((t) => inSchedule(settings, t) !== current) ?? null
}

export function describeWindow(w: ScheduleWindow): string {
  const [, end] = bounds(w)
  return `${WEEKDAYS[w.day]} ${w.start}–${end === DAY_MIN ? '24:00' : w.end}`
}

function inWindow(w: ScheduleWindow, now: Date): boolean {
  if (now.getDay() !== w.day) return false
  const minute = now.getHours() * 60 + now.getMinutes()
  const [start, end] = bounds(w)
  return minute >= start && minute < end
}

/** [start, end) in minutes of the day; end ≤ start (including "00:00") means midnight. */
function bounds(w: ScheduleWindow): [number, number] {
  const start = minutes(w.start)
  const end = minutes(w.end)
  return [start, end <= start ? DAY_MIN : end]
}

function minutes(text: string): number {
  const [h, m] = text.split(':').map(Number) as [number, number]
  return h * 60 + m
}

function hhmm(t: Date): string {
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`
}

function duration(sec: number): string {
  if (sec < 60) return `${Math.floor(sec)} s`
  if (sec < 3600) return `${Math.floor(sec / 60)} min`
  return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`
}
