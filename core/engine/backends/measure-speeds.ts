/**
 * `auto` by measurement: every usable backend trains the job's own model at its own batch for a
 * short, bounded time, the table is cached per device, driver, Tandem version, model and batch,
 * and the fastest measured backend wins. How one backend is timed (StepTimer) and what a
 * measurement looks like are here; the engine runs the steps (engine.ts), the node stores the
 * cache (node/backend-speed-cache.ts).
 */
import { createHash } from 'node:crypto'
import { countParams } from '../spec/cost.js'
import { canonicalJson, specHash } from '../spec/hash.js'
import type { ModelSpec } from '../spec/schema.js'
import type { BackendName, BackendStatus } from './probe.js'
import { tableFrom, type BackendSpeed, type SpeedTable } from './speed.js'

/** Where measured tables are kept between runs (the node's state dir; memory in tests). */
export interface SpeedCache {
  get(key: string): Promise<SpeedTable | null>
  put(table: SpeedTable): Promise<void>
}

export interface Measurement {
  samplesPerSec: number | null
  msPerStep: number | null
  steps: number
  detail: string
}

export interface MeasureBudget {
  /** Timed compute per backend after the warm-up step, ms (default 600). */
  budgetMs: number
  /** Hard cap per backend from its first step, ms: slower backends are cut off (default 3000). */
  capMs: number
  /** Timed steps wanted at least, budget permitting (default 3). */
  minSteps: number
  /** Timed steps at most (default 20). */
  maxSteps: number
}

export const DEFAULT_BUDGET: MeasureBudget = {
  budgetMs: 600,
  capMs: 3000,
  minSteps: 3,
  maxSteps: 20,
}

export interface MeasureInput {
  spec: ModelSpec
  batch: number
  /** Data-parallel workers a CPU backend would use (part of the key: it changes the speed). */
  workers: number
  /** Every candidate as probed here, usable or not (the usable ones are measured). */
  statuses: readonly BackendStatus[]
  /** Tandem's version. */
  version: string
  cache?: SpeedCache
  /** Times one backend on this model and batch. */
  measure(name: BackendName): Promise<Measurement>
  now?: () => number
}

/** What the cache key is made of; any change means a new measurement. */
export function speedKeyFields(input: Omit<MeasureInput, 'cache' | 'measure' | 'now'>): unknown {
  return {
    v: 1,
    tandem: input.version,
    spec: specHash(input.spec),
    batch: input.batch,
    workers: input.workers,
    backends: input.statuses.map((s) => ({
      name: s.name,
      available: s.available,
      device: s.device ?? null,
      driver: s.driver ?? null,
      software: s.software === true,
    })),
  }
}

export function speedKey(input: Omit<MeasureInput, 'cache' | 'measure' | 'now'>): string {
  return createHash('sha256')
    .update(canonicalJson(speedKeyFields(input)))
    .digest('hex')
}

export function describeWorkload(spec: ModelSpec, batch: number, workers: number): string {
  const shape =
    spec.type === 'mlp'
      ? `mlp ${[spec.inputSize, ...spec.hidden, spec.classes].join('-')}`
      : spec.type === 'cnn'
        ? `cnn ${spec.input.height}×${spec.input.width}×${spec.input.channels}, ${spec.layers.length} layers`
        : `transformer d${spec.dModel}×${spec.layers}, context ${spec.context}`
  const params = countParams(spec).toLocaleString('en-US')
  const cpu = workers === 1 ? '1 CPU worker' : `${workers} CPU workers`
  return `${shape} (${params} params), batch ${batch}, ${cpu}`
}

/**
 * The measured table for this model and machine: from the cache when every key part matches,
 * otherwise measured now (one backend at a time, so they do not compete for the machine) and stored.
 */
export async function measureSpeeds(input: MeasureInput): Promise<SpeedTable> {
  const key = speedKey(input)
  const cached = await input.cache?.get(key).catch(() => null)
  if (cached && cached.key === key) return { ...cached, cached: true }
  const speeds: BackendSpeed[] = []
  for (const status of input.statuses) {
    const base = {
      name: status.name,
      device: status.device ?? status.name,
      software: status.software === true,
    }
    if (!status.available) {
      speeds.push({
        ...base,
        samplesPerSec: null,
        msPerStep: null,
        steps: 0,
        detail: status.detail,
      })
      continue
    }
    let m: Measurement
    try {
      m = await input.measure(status.name)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      m = { samplesPerSec: null, msPerStep: null, steps: 0, detail: `failed: ${message}` }
    }
    speeds.push({ ...base, ...m })
  }
  const table = tableFrom(speeds, {
    workload: describeWorkload(input.spec, input.batch, input.workers),
    key,
    measuredAt: (input.now ?? Date.now)(),
    cached: false,
  })
  await input.cache?.put(table).catch(() => undefined)
  return table
}

/**
 * Times one backend from its step reports: step 0 is the warm-up (shader compilation, kernel
 * set-up, first allocations) and is not counted; then steps until the budget is spent and enough
 * were seen, or the cap is reached.
 */
export class StepTimer {
  private warmupMs: number | null = null
  private timedMs = 0
  private timedSamples = 0
  private timedSteps = 0
  private lastSamples = 0

  constructor(
    private readonly batch: number,
    private readonly budget: MeasureBudget = DEFAULT_BUDGET,
  ) {}

  /**
   * Records one step (ms of compute, samples so far in the job, as StepInfo counts them); true
   * when measuring should stop.
   */
  add(step: number, ms: number, samplesSoFar: number): boolean {
    const samples = samplesSoFar - this.lastSamples
    this.lastSamples = samplesSoFar
    if (step === 0 || this.warmupMs === null) {
      this.warmupMs = ms
    } else {
      this.timedMs += ms
      this.timedSamples += samples
      this.timedSteps++
    }
    const spent = (this.warmupMs ?? 0) + this.timedMs
    if (spent >= this.budget.capMs) return true
    if (this.timedSteps >= this.budget.maxSteps) return true
    return this.timedSteps >= this.budget.minSteps && this.timedMs >= this.budget.budgetMs
  }

  /** The measurement so far; `cutOff` when the cap stopped it before any step ended. */
  result(cutOff = false): Measurement {
    if (this.timedSteps > 0 && this.timedMs > 0) {
      return {
        samplesPerSec: (this.timedSamples * 1000) / this.timedMs,
        msPerStep: this.timedMs / this.timedSteps,
        steps: this.timedSteps,
        detail: 'measured',
      }
    }
    const cap = `${(this.budget.capMs / 1000).toFixed(1)} s`
    if (this.warmupMs !== null && this.warmupMs > 0) {
      // Only the warm-up step finished within the cap: an optimistic figure, still far slower.
      return {
        samplesPerSec: (this.batch * 1000) / this.warmupMs,
        msPerStep: this.warmupMs,
        steps: 1,
        detail: `one step only (cut off at ${cap}; includes warm-up)`,
      }
    }
    return {
      samplesPerSec: null,
      msPerStep: null,
      steps: 0,
      detail: cutOff ? `no step finished within ${cap}` : 'no step finished',
    }
  }
}
