/**
 * "Pause while these programs run" (BOINC's exclusive applications): games, video editing, a
 * render… The person picks programs from the ones running now (the tray's submenu); while any of
 * them runs, training holds. The process list comes from ps-list (`ps` on macOS and Linux, the
 * bundled fastlist on Windows), polled every 5 s.
 */
import type { Holds } from './holds.js'

export interface ProcessInfo {
  readonly name: string
  readonly uid?: number
  readonly cpu?: number
}

export type ListProcesses = () => Promise<readonly ProcessInfo[]>

export const EXCLUSIVE_POLL_MS = 5000

/** A program's name as matched and shown: the executable's name without `.exe`, lower case. */
export function programName(name: string): string {
  return name
    .trim()
    .replace(/\.exe$/i, '')
    .toLowerCase()
}

/** Names that are never offered: the system's own processes and Tandem itself. */
const NOT_OFFERED =
  /^(tandem|electron|kworker|kthreadd|systemd|launchd|svchost|ps|sh|bash|zsh|login|init)\b/

/**
 * Programs to offer in the picker: this user's, by CPU use, most first (Windows reports neither
 * owner nor CPU: all, by name), at most `max`, without duplicates and system processes.
 */
export function offeredPrograms(
  processes: readonly ProcessInfo[],
  opts: { uid?: number; max?: number } = {},
): string[] {
  const mine = processes.filter(
    (p) => opts.uid === undefined || p.uid === undefined || p.uid === opts.uid,
  )
  const byCpu = [...mine].sort(
    (a, b) => (b.cpu ?? 0) - (a.cpu ?? 0) || a.name.localeCompare(b.name),
  )
  const names: string[] = []
  for (const p of byCpu) {
    const name = programName(p.name)
    if (name === '' || NOT_OFFERED.test(name) || names.includes(name)) continue
    names.push(name)
    if (names.length >= (opts.max ?? 20)) break
  }
  return names
}

/** Which of the chosen programs run now, in the order chosen. */
export function runningChosen(
  processes: readonly ProcessInfo[],
  chosen: readonly string[],
): string[] {
  const running = new Set(processes.map((p) => programName(p.name)))
  return chosen.filter((c) => running.has(programName(c)))
}

export function programHold(running: readonly string[]): string | null {
  if (running.length === 0) return null
  const names = running.join(', ')
  return `${names} ${running.length === 1 ? 'is' : 'are'} running (you asked to pause while ${running.length === 1 ? 'it runs' : 'they run'})`
}

export class ExclusivePrograms {
  private timer: NodeJS.Timeout | null = null
  private latest: readonly ProcessInfo[] = []

  constructor(
    private readonly list: ListProcesses,
    private readonly chosen: () => readonly string[],
    private readonly holds: Holds,
    private readonly warn: (line: string) => void = () => {},
  ) {}

  /** The processes seen at the last check. */
  get processes(): readonly ProcessInfo[] {
    return this.latest
  }

  async check(): Promise<void> {
    try {
      this.latest = await this.list()
    } catch (err) {
      this.warn(`tandem: could not list running programs: ${String(err)}`)
      return
    }
    this.holds.set('program', programHold(runningChosen(this.latest, this.chosen())))
  }

  start(): void {
    void this.check()
    this.timer = setInterval(() => void this.check(), EXCLUSIVE_POLL_MS)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}
