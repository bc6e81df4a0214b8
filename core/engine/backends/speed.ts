/**
 * Measured training speed of each backend, and the choice `auto` makes from it: the fastest
 * measured backend wins, whatever it is (a software GPU adapter included, though it rarely wins).
 * Pure functions and data: the measuring itself is in measure-speeds.ts.
 */
import type { BackendName } from './probe.js'

/** One backend's line in the table. */
export interface BackendSpeed {
  name: BackendName
  /** What it runs on (GPU adapter, or CPU model and threads). */
  device: string
  /** A GPU adapter that is a CPU emulation (llvmpipe, SwiftShader, WARP, a fallback adapter). */
  software: boolean
  /** Training samples per second on the measured model and batch; null when not measured. */
  samplesPerSec: number | null
  /** Milliseconds per optimizer step (all data-parallel workers together); null when not measured. */
  msPerStep: number | null
  /** Timed steps behind the number (after one warm-up step). */
  steps: number
  /** What happened: "measured", "not installed", "slower than the 3 s cap", an error… */
  detail: string
}

/** The measured table for one model, batch and machine, with the resulting choice. */
export interface SpeedTable {
  /** What was measured, e.g. "mlp 784-256-10, batch 256, 1 worker". */
  workload: string
  /** Cache key (hex SHA-256 of the device, driver, Tandem version, model and batch). */
  key: string
  /** Unix ms of the measurement. */
  measuredAt: number
  /** True when this table came from the cache rather than a fresh measurement. */
  cached: boolean
  /** Every backend considered, fastest measured first, then the unmeasured ones. */
  speeds: BackendSpeed[]
  /** The fastest measured backend ('none' when nothing could be measured). */
  chosen: BackendName | 'none'
  /** Why `chosen` won, in a sentence. */
  why: string
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|\bwarp\b|basic render/i

/** Whether a WebGPU adapter is a CPU emulation rather than a GPU. */
export function isSoftwareAdapter(info: {
  vendor?: string
  architecture?: string
  device?: string
  description?: string
  isFallbackAdapter?: boolean
}): boolean {
  if (info.isFallbackAdapter === true) return true
  if (info.architecture?.toLowerCase() === 'software') return true
  return [info.vendor, info.device, info.description].some(
    (s) => s !== undefined && SOFTWARE_ADAPTER.test(s),
  )
}

/** Fastest measured first; unmeasured after, in their original order. */
export function rankSpeeds(speeds: readonly BackendSpeed[]): BackendSpeed[] {
  const measured = speeds.filter((s) => s.samplesPerSec !== null)
  const rest = speeds.filter((s) => s.samplesPerSec === null)
  measured.sort((a, b) => (b.samplesPerSec as number) - (a.samplesPerSec as number))
  return [...measured, ...rest]
}

export function formatRate(samplesPerSec: number): string {
  return samplesPerSec >= 100
    ? Math.round(samplesPerSec).toLocaleString('en-US')
    : samplesPerSec.toPrecision(3)
}

const label = (s: BackendSpeed) => (s.software ? `${s.name} (software adapter)` : s.name)

/** The sentence that says why the first of `ranked` won. */
export function explainChoice(ranked: readonly BackendSpeed[]): string {
  const [best, next] = ranked
  if (!best || best.samplesPerSec === null) return 'no backend could be measured'
  const rate = `${formatRate(best.samplesPerSec)} samples/s`
  if (!next || next.samplesPerSec === null)
    return `${label(best)} is the only backend that trained here (${rate})`
  const factor = best.samplesPerSec / Math.max(next.samplesPerSec, 1e-9)
  const soft = ranked.filter((s) => s !== best && s.software && s.samplesPerSec !== null)
  const softNote =
    soft.length > 0 && !best.software
      ? `; ${soft.map((s) => s.name).join(', ')} is a software adapter and measured slower`
      : ''
  return `${label(best)} measured fastest: ${rate}, ${factor.toFixed(1)}× ${label(next)}${softNote}`
}

/** Builds the table from measured speeds (any order). */
export function tableFrom(
  speeds: readonly BackendSpeed[],
  meta: { workload: string; key: string; measuredAt: number; cached: boolean },
): SpeedTable {
  const ranked = rankSpeeds(speeds)
  const best = ranked[0]
  return {
    ...meta,
    speeds: ranked,
    chosen: best && best.samplesPerSec !== null ? best.name : 'none',
    why: explainChoice(ranked),
  }
}

/** One line for the log: every backend's speed, fastest first, or why it has none. */
export function describeTable(table: SpeedTable): string {
  const parts = table.speeds.map((s) =>
    s.samplesPerSec === null
      ? `${s.name}: ${s.detail}`
      : `${label(s)} ${formatRate(s.samplesPerSec)} samples/s`,
  )
  return `${parts.join(', ')} (${table.workload}${table.cached ? ', cached' : ''})`
}
