/**
 * Which project gets this machine next: BOINC's resource-share scheduling, reduced to what a
 * DiLoCo contributor needs. Work comes in rounds, so the choice is made only at round boundaries;
 * each finished round records the compute-seconds it took. The project with the largest deficit
 * (its share of the recent total minus what it recently used) goes next, so over time each joined
 * project gets time in proportion to its share.
 *
 * Pure and deterministic: functions of the state and their arguments (no clock, no randomness),
 * returning a new state; ties break by larger share, then by key. The state is small JSON that the
 * node persists with writeJsonAtomic (SchedulerState is its schema).
 *
 * Three refinements over the bare formula, each a known BOINC lesson:
 * - "Recent": usage decays with a half-life counted in compute-seconds recorded (default one day of
 *   compute), so the distant past stops mattering and nothing grows without bound. Counting in
 *   compute time, not wall time, keeps it deterministic and keeps a machine that was off for a week
 *   where it was.
 * - A project that becomes eligible (new, rejoined or unpaused) starts at its fair share of the
 *   current total, with no deficit: a new project does not take the machine for hours to "catch
 *   up", and a paused one does not come back owed everything it missed.
 * - A deficit is capped: a project that was joined but had no work (no open round) for a long time
 *   runs alone to catch up for at most an hour of compute (by default), then shares again.
 */
import { z } from 'zod'

export interface SchedProject {
  key: string
  /** Relative resource share, ≥ 1. */
  share: number
  joined: boolean
  paused: boolean
  /** Has work right now (an open round this node can take); default true. */
  ready?: boolean
}

export const SCHEDULER_STATE_VERSION = 1

export const SchedulerState = z
  .object({
    version: z.literal(SCHEDULER_STATE_VERSION),
    projects: z.record(
      z.string().min(1).max(200),
      z
        .object({
          /** Decayed compute-seconds. */
          used: z.number().min(0).finite(),
          /** Was eligible at the last pick (joined and not paused). */
          active: z.boolean(),
          /** Undecayed compute-seconds since the project was first seen, for display. */
          lifetime: z.number().min(0).finite(),
        })
        .strict(),
    ),
  })
  .strict()
export type SchedulerState = z.infer<typeof SchedulerState>

export interface SchedulerOptions {
  /** Half-life of recorded usage, in compute-seconds (default 86,400). */
  halfLifeSec?: number
  /**
   * Longest stretch a project owed time may run alone to catch up, in compute-seconds
   * (default 3,600).
   */
  maxCatchUpSec?: number
}

export const DEFAULT_HALF_LIFE_SEC = 86_400
export const DEFAULT_MAX_CATCH_UP_SEC = 3_600

export function emptySchedulerState(): SchedulerState {
  return { version: SCHEDULER_STATE_VERSION, projects: {} }
}

export interface Pick {
  /** The project to work on next, or null when none is eligible and ready. */
  key: string | null
  /** Deficit of each eligible project at this pick (compute-seconds; positive = owed time). */
  deficits: Record<string, number>
  state: SchedulerState
}

/** Chooses the next project. Call at a round boundary; the returned state replaces the old one. */
export function pick(
  projects: readonly SchedProject[],
  state: SchedulerState,
  opts: SchedulerOptions = {},
): Pick {
  const maxCatchUp = opts.maxCatchUpSec ?? DEFAULT_MAX_CATCH_UP_SEC
  const eligible = projects.filter((p) => p.joined && !p.paused && p.share > 0)
  const shareSum = eligible.reduce((sum, p) => sum + p.share, 0)
  const next: SchedulerState['projects'] = {}
  for (const [key, entry] of Object.entries(state.projects)) next[key] = { ...entry, active: false }

  // Projects that were already running together define the "current total"; newcomers join it at
  // their fair share of it.
  const settled = eligible.filter((p) => state.projects[p.key]?.active)
  const settledShare = settled.reduce((sum, p) => sum + p.share, 0)
  const settledUsed = settled.reduce((sum, p) => sum + state.projects[p.key]!.used, 0)
  const perShare = settledShare > 0 ? settledUsed / settledShare : 0
  for (const p of eligible) {
    const old = state.projects[p.key]
    const used = old?.active ? old.used : perShare * p.share
    next[p.key] = { used, active: true, lifetime: old?.lifetime ?? 0 }
  }

  const total = eligible.reduce((sum, p) => sum + next[p.key]!.used, 0)
  const deficits: Record<string, number> = {}
  for (const p of eligible) {
    const entry = next[p.key]!
    const fraction = p.share / shareSum
    const fair = fraction * total
    // Running alone for s seconds pays back (1 − fraction)·s of deficit (its fair share grows
    // with the total), so this cap bounds the catch-up run to maxCatchUp seconds.
    const cap = maxCatchUp * (1 - fraction)
    if (fair - entry.used > cap) entry.used = fair - cap
    deficits[p.key] = fair - entry.used
  }

  let best: SchedProject | null = null
  for (const p of eligible) {
    if (p.ready === false) continue
    if (best === null || better(p, best, deficits)) best = p
  }
  return { key: best?.key ?? null, deficits, state: { version: state.version, projects: next } }
}

function better(a: SchedProject, b: SchedProject, deficits: Record<string, number>): boolean {
  const da = deficits[a.key]!
  const db = deficits[b.key]!
  // Relative tolerance: float sums of the same values in another order must not flip a tie.
  if (Math.abs(da - db) > 1e-9 * Math.max(1, Math.abs(da), Math.abs(db))) return da > db
  if (a.share !== b.share) return a.share > b.share
  return a.key < b.key
}

/** Records compute-seconds spent on a project (a finished or abandoned round). */
export function record(
  state: SchedulerState,
  key: string,
  seconds: number,
  opts: SchedulerOptions = {},
): SchedulerState {
  if (!(seconds >= 0) || !Number.isFinite(seconds)) return state
  const halfLife = opts.halfLifeSec ?? DEFAULT_HALF_LIFE_SEC
  const decay = Math.pow(0.5, seconds / halfLife)
  const projects: SchedulerState['projects'] = {}
  for (const [k, entry] of Object.entries(state.projects)) {
    projects[k] = { ...entry, used: entry.used * decay }
  }
  const entry = projects[key] ?? { used: 0, active: false, lifetime: 0 }
  projects[key] = { ...entry, used: entry.used + seconds, lifetime: entry.lifetime + seconds }
  return { version: state.version, projects }
}

/** Drops a project the node left for good (its history no longer matters). */
export function forget(state: SchedulerState, key: string): SchedulerState {
  const { [key]: _, ...projects } = state.projects
  return { version: state.version, projects }
}
