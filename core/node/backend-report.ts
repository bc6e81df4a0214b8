/**
 * Which training backend the node uses and why not the better ones (contract BackendReport), as
 * status and pre-flight show it: predicted by probing before any job runs, then replaced by what
 * the engine actually chose when a job starts (a fallback after a failure mid-run shows there).
 */
import type { BackendReport, Settings } from '../api/contract.js'
import {
  BACKENDS,
  probeBackend,
  type BackendName,
  type BackendPreference,
  type BackendSelection,
} from '../engine/backends/probe.js'
import { describeTable, formatRate, type SpeedTable } from '../engine/backends/speed.js'
import type { EngineOptions } from '../engine/engine.js'
import * as tf from '../engine/tf.js'
import { engineOptions, forcedBy } from './engine-settings.js'

/**
 * A forced backend is not "the fastest here": the better ones, each with `why` it was forced. They
 * are not probed: a person may force one precisely because a better one breaks.
 */
export function notTried(forced: BackendName, why: string): BackendReport['skipped'] {
  return BACKENDS.slice(0, Math.max(0, BACKENDS.indexOf(forced))).map((name) => ({
    name,
    reason: `not tried: ${why}`,
  }))
}

/**
 * The report for the engine's choice. A better backend the engine did not try this time keeps
 * the reason an `earlier` report gave; `why` explains a forced choice.
 */
export function selectionReport(
  selection: BackendSelection,
  earlier: BackendReport | null,
  why: string,
): BackendReport {
  if (selection.measured) return measuredReport(selection.measured, selection.chosen)
  if (selection.forced)
    return {
      chosen: selection.chosen,
      device: selection.device,
      skipped: notTried(selection.chosen, why),
    }
  const before = new Map((earlier?.skipped ?? []).map((s) => [s.name, s.reason]))
  const reasons = new Map<string, string>(selection.skipped.map((s) => [s.name, s.detail]))
  const skipped = BACKENDS.slice(0, Math.max(0, BACKENDS.indexOf(selection.chosen))).flatMap(
    (name) => {
      const reason = reasons.get(name) ?? before.get(name)
      return reason === undefined ? [] : [{ name, reason }]
    },
  )
  return { chosen: selection.chosen, device: selection.device, skipped }
}

/**
 * The report of a measured choice: every other backend is listed with why it lost (its measured
 * speed, or why it could not be measured), and the whole table travels with it.
 */
export function measuredReport(table: SpeedTable, chosen: string = table.chosen): BackendReport {
  const winner = table.speeds.find((s) => s.name === chosen)
  return {
    chosen,
    device: winner?.device ?? 'none',
    skipped: table.speeds
      .filter((s) => s.name !== chosen)
      .map((s) => ({
        name: s.name,
        reason:
          s.samplesPerSec === null
            ? s.detail
            : `measured slower: ${formatRate(s.samplesPerSec)} samples/s${s.software ? ' (software adapter)' : ''}`,
      })),
    measured: table,
  }
}

/**
 * Which backend training would use for `pref`, and why not the better ones (`why` explains a
 * forced one). Probes only: activating one here would change the main thread's tfjs backend, which
 * scores rounds and must stay put. `chosen: 'none'` when nothing works.
 */
export async function probeReport(pref: BackendPreference, why: string): Promise<BackendReport> {
  // A probe registers its backend in this thread's tfjs. If tfjs had no backend yet, the best one
  // registered becomes this thread's at its first op: a probed wasm (whose init is async) makes
  // every later op throw, a probed tfjs-node silently takes over. Settle this thread's backend
  // (the default) first, so scoring and sampling here never depend on whether a probe ran.
  await tf.ready()
  const candidates = pref === 'auto' ? BACKENDS : [pref]
  const skipped: BackendReport['skipped'] = pref === 'auto' ? [] : notTried(pref, why)
  for (const name of candidates) {
    const status = await probeBackend(name)
    if (status.available) return { chosen: name, device: status.device ?? name, skipped }
    skipped.push({ name, reason: status.detail })
  }
  return { chosen: 'none', device: 'none', skipped }
}

/**
 * The node's current report: predicted by probe() until a job starts, then what the engine chose
 * (chosen()), for the settings as they are now and the engine overrides the node started with.
 */
export class BackendReports {
  current: BackendReport | null = null

  constructor(
    private readonly settings: () => Settings,
    private readonly overrides: Partial<EngineOptions> = {},
    /**
     * Measures `auto`'s table on a reference model when no job has yet (the engine, through its
     * cache); null when it cannot now (the engine is busy).
     */
    private readonly measure?: () => Promise<SpeedTable | null>,
  ) {}

  /** The engine chose its backend for a job: that is the report from now on. */
  chosen(selection: BackendSelection): BackendReport {
    this.current = selectionReport(selection, this.current, this.forcedBy(selection.chosen))
    return this.current
  }

  /**
   * Which backend training would use: with `auto`, the measured table (the latest job's, else a
   * measurement of a reference model); forced, a probe. A usable one becomes the current report.
   */
  async probe(): Promise<BackendReport> {
    const pref = engineOptions(this.settings(), this.overrides).backend ?? 'auto'
    if (pref === 'auto' && this.measure) {
      if (this.current?.measured) return this.current
      const table = await this.measure()
      if (table && table.chosen !== 'none') {
        this.current = measuredReport(table)
        return this.current
      }
    }
    const report = await probeReport(pref, pref === 'auto' ? '' : this.forcedBy(pref))
    if (report.chosen !== 'none') this.current = report
    return report
  }

  private forcedBy(forced: BackendName): string {
    return forcedBy(forced, this.settings(), this.overrides)
  }
}

/** The log line for the engine's choice of backend for a job. */
export function describeSelection(selection: BackendSelection): string {
  const on = `training on ${selection.chosen} (${selection.device})`
  if (selection.measured)
    return `${on}: ${selection.measured.why}; measured ${describeTable(selection.measured)}`
  return selection.forced ? `${on}: forced` : `${on}: first usable backend in the default order`
}
