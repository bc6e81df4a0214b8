/**
 * What the operating system says about power and the person, turned into what the node's run
 * policy understands (core/node/policy.ts), reported through `report` (the node supervisor):
 *
 * - sleep: `suspend` holds training and suspends the swarm (connections closed cleanly, no
 *   announcing while asleep); `resume` releases the hold and resumes the swarm;
 * - lock screen: the person is away, so "only when idle" may train at once (`screenLocked`);
 * - on battery / on mains (`onBattery`; the policy pauses when "pause on battery" is set);
 * - heat: macOS's thermal state `serious` or `critical` holds training until it is back to
 *   `fair` or `nominal`; Windows' and macOS' CPU speed limit below 80 % holds it too;
 * - idle time: polled every second, reported when the person comes back (the idle time dropped)
 *   or every 30 s of idleness, so "only when idle" stops within 2 s of a key press.
 *
 * Electron emits each of these only on the platforms that have it; the rest never fire.
 */
import type { ShellEnvironment } from '../../core/api/shell.js'
import type { PowerMonitorLike } from './electron-like.js'
import type { Holds } from './holds.js'

export interface PowerReports {
  environment(env: ShellEnvironment): void
  network(action: 'suspend' | 'resume'): void
}

/** CPU speed limits (percent of the maximum) below this hold training. */
export const SPEED_LIMIT_HOLD = 80
export const IDLE_POLL_MS = 1000
const IDLE_REPORT_STEP_SEC = 30

type Thermal = ReturnType<PowerMonitorLike['getCurrentThermalState']>

export function thermalHold(state: Thermal): string | null {
  return state === 'serious' || state === 'critical'
    ? `the computer is running hot (thermal state ${state})`
    : null
}

export function speedLimitHold(limit: number): string | null {
  return limit < SPEED_LIMIT_HOLD
    ? `the system limits the CPU to ${Math.round(limit)} % of its speed (heat or power saving)`
    : null
}

export const SLEEP_HOLD = 'the computer is going to sleep'

export class PowerWatcher {
  private poll: NodeJS.Timeout | null = null
  private lastIdle = -1

  constructor(
    private readonly power: PowerMonitorLike,
    private readonly holds: Holds,
    private readonly reports: PowerReports,
  ) {}

  start(): void {
    const p = this.power
    p.on('suspend', () => {
      this.holds.set('sleep', SLEEP_HOLD)
      this.reports.network('suspend')
    })
    p.on('resume', () => {
      this.holds.set('sleep', null)
      this.reports.network('resume')
      this.reportIdle(true)
    })
    p.on('lock-screen', () => this.reports.environment({ screenLocked: true }))
    p.on('unlock-screen', () => {
      this.reports.environment({ screenLocked: false })
      this.reportIdle(true)
    })
    p.on('on-battery', () => this.reports.environment({ onBattery: true }))
    p.on('on-ac', () => this.reports.environment({ onBattery: false }))
    p.on('thermal-state-change', (details: { state: Thermal } | Thermal) => {
      // Electron passes { state } (it passed the bare state in older versions).
      const state = typeof details === 'string' ? details : details.state
      this.holds.set('thermal', thermalHold(state))
    })
    p.on('speed-limit-change', (details: { limit: number } | number) => {
      const limit = typeof details === 'number' ? details : details.limit
      this.holds.set('speed-limit', speedLimitHold(limit))
    })
    this.reports.environment({ onBattery: p.isOnBatteryPower() })
    this.holds.set('thermal', thermalHold(p.getCurrentThermalState()))
    this.reportIdle(true)
    this.poll = setInterval(() => this.reportIdle(false), IDLE_POLL_MS)
    this.poll.unref()
  }

  /** Reports idle time when the person came back, or every 30 s of idleness. */
  private reportIdle(force: boolean): void {
    const idle = this.power.getSystemIdleTime()
    const back = idle < this.lastIdle
    const step =
      Math.floor(idle / IDLE_REPORT_STEP_SEC) !== Math.floor(this.lastIdle / IDLE_REPORT_STEP_SEC)
    this.lastIdle = idle
    if (force || back || step) this.reports.environment({ idleSec: idle })
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll)
    this.poll = null
  }
}
