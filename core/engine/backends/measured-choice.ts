/**
 * What `auto` does with a measured speed table: which backend to try next after failures, and the
 * selection as the node shows it (the table, why this backend won, and why each backend ahead of
 * it in the default order was not used this time). Pure functions of the table.
 */
import {
  BACKENDS,
  type BackendName,
  type BackendPreference,
  type BackendSelection,
  type BackendStatus,
} from './probe.js'
import { formatRate, type SpeedTable } from './speed.js'

/** The backends that run one worker on a device (no data-parallel CPU workers). */
export const GPU_BACKENDS: readonly BackendName[] = ['tfjs-node-gpu', 'webgpu']

/**
 * The fastest measured backend not yet excluded; plain `auto` order when every measured one is
 * excluded, and `preference` when nothing was measured.
 */
export function nextChoice(
  table: SpeedTable | null,
  exclude: readonly BackendName[],
  preference: BackendPreference,
): BackendPreference {
  if (!table) return preference
  const next = table.speeds.find((s) => s.samplesPerSec !== null && !exclude.includes(s.name))
  return next ? next.name : 'auto'
}

/** The selection as the node sees it: with `auto`, the measured table and why this one won. */
export function withTable(
  selection: BackendSelection,
  table: SpeedTable | null,
  exclude: readonly BackendName[],
): BackendSelection {
  if (!table) return selection
  const failed = exclude.filter((name) =>
    table.speeds.some((s) => s.name === name && s.samplesPerSec !== null),
  )
  const why =
    failed.length === 0 && table.chosen === selection.chosen
      ? table.why
      : `${selection.chosen} is the fastest measured backend left after ${failed.join(', ')} failed`
  // Every backend ahead of it in the default order, with why it was not used this time.
  const order = BACKENDS.slice(0, Math.max(0, BACKENDS.indexOf(selection.chosen)))
  const skipped = order.map((name): BackendStatus => {
    const s = table.speeds.find((x) => x.name === name)
    const detail =
      exclude.includes(name) && s?.samplesPerSec !== null && s
        ? 'failed during this job'
        : !s || s.samplesPerSec === null
          ? (s?.detail ?? 'not measured')
          : `measured slower: ${formatRate(s.samplesPerSec)} samples/s${s.software ? ' (software adapter)' : ''}`
    return { name, available: s?.samplesPerSec != null, detail, ...(s ? { device: s.device } : {}) }
  })
  return { ...selection, skipped, forced: false, measured: { ...table, why } }
}
