/**
 * The training engine as the rest of the node sees it: runs one DiLoCo inner loop off the main
 * thread, in one worker (GPU backends) or several data-parallel workers (CPU backends, one per
 * allowed thread), with pause/resume, stop and a duty-cycle throttle. If the backend fails mid-run
 * it excludes that backend and runs the job again on the next best one: the inner loop is a
 * deterministic function of its inputs, so restarting the round is the correct way to finish it.
 */
import { EventEmitter } from 'node:events'
import { freemem } from 'node:os'
import { Worker } from 'node:worker_threads'
import { TandemError } from '../api/errors.js'
import { packageInfo } from '../util/package-info.js'
import { timeBackend, type TimingHost } from './backend-timing.js'
import {
  measureSpeeds,
  type MeasureBudget,
  type Measurement,
  type SpeedCache,
} from './backends/measure-speeds.js'
import {
  BACKENDS,
  probeBackend,
  type BackendName,
  type BackendPreference,
  type BackendSelection,
  type BackendStatus,
} from './backends/probe.js'
import { GPU_BACKENDS, nextChoice, withTable } from './backends/measured-choice.js'
import type { SpeedTable } from './backends/speed.js'
import type { DataSource } from './batch.js'
import type { InnerJob, InnerResult, StepInfo } from './inner-loop.js'
import { hostParallelBuffers } from './optim/host-adamw.js'
import { BatchFeed, batchBuffers } from './rank-feed.js'
import { estimateMemory } from './spec/cost.js'
import { checkGpuMemory } from './spec/gpu-memory.js'
import type { ModelSpec } from './spec/schema.js'
import { StepMerger } from './step-merger.js'
import * as tf from './tf.js'
import {
  BACKEND_FAULT,
  CTL,
  STATE,
  type EngineFault,
  type FromWorker,
  type ToWorker,
} from './worker/protocol.js'

export interface EngineOptions {
  backend?: BackendPreference
  /** CPU threads the engine may use (data-parallel workers on CPU backends). */
  maxThreads?: number
  /** Fraction of wall time spent training, (0, 1]. */
  dutyCycle?: number
  /** Refuse jobs whose estimated memory exceeds this. Default: 80% of free memory at start. */
  memoryLimitBytes?: number
  /**
   * Refuse GPU jobs whose estimated GPU memory exceeds this. Default: no total budget (WebGPU does
   * not report one); the device's per-buffer limits always apply.
   */
  gpuMemoryLimitBytes?: number
  /** Backends `auto` never uses (tests pin the candidates with it; a person may exclude a broken one). */
  exclude?: BackendName[]
  /** Measured speed tables kept between runs (the node's state dir); always also kept in memory. */
  speedCache?: SpeedCache
  /** How long `auto` measures each backend (measure-speeds.ts). */
  measureBudget?: Partial<MeasureBudget>
  /** Probes one backend here (default probe.ts). Tests hide or fake devices with it. */
  probe?: (name: BackendName) => Promise<BackendStatus>
  /** Times one backend on a model and batch (default: real training steps in workers). Tests inject numbers. */
  measurer?: (name: BackendName, spec: ModelSpec, batch: number) => Promise<Measurement>
  /** Clock for measured tables (tests). */
  now?: () => number
}

/** The engine options that are functions or stores, fixed when the engine is made. */
type Injected =
  | 'speedCache'
  | 'measureBudget'
  | 'probe'
  | 'measurer'
  | 'now'
  | 'memoryLimitBytes'
  | 'gpuMemoryLimitBytes'
  | 'exclude'

export interface TrainRequest {
  job: InnerJob
  batchSize: number
  /** Opens the round's data from its first batch; called again if the job restarts on another backend. */
  openData: () => DataSource
  onStep?: (info: StepInfo) => void
  /** Test hook, see worker/protocol.ts. */
  fault?: EngineFault
}

export interface TrainOutcome extends InnerResult {
  backend: BackendSelection
  workers: number
  /** Backends that failed during this job, with their error. */
  failures: { backend: BackendName; message: string }[]
}

const fromSource = import.meta.url.endsWith('.ts')

/**
 * From the build the worker is plain JavaScript. From source (tests and benchmarks run through tsx)
 * it is TypeScript, and Node 20 does not carry the parent's loader hooks into workers: register
 * tsx inside the worker first, then load the entry.
 */
function spawnWorker(): Worker {
  if (!fromSource) return new Worker(new URL('./worker/entry.js', import.meta.url))
  const entry = new URL('./worker/entry.ts', import.meta.url).href
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(boot, { eval: true })
}

export class TrainingEngine extends EventEmitter {
  private readonly control = new Int32Array(new SharedArrayBuffer(8))
  private options: Required<Omit<EngineOptions, Injected>> & Pick<EngineOptions, Injected>
  private workers: Worker[] = []
  private busy = false
  /** Measured tables of this process, by key (in front of the persistent cache). */
  private readonly tables = new Map<string, SpeedTable>()
  private statuses: Promise<BackendStatus[]> | null = null

  constructor(options: EngineOptions = {}) {
    super()
    this.options = { backend: 'auto', maxThreads: 1, dutyCycle: 1, ...options }
    this.setDutyCycle(this.options.dutyCycle)
  }

  get paused(): boolean {
    return Atomics.load(this.control, CTL.state) === STATE.paused
  }

  /** Takes effect at the next step boundary, without a restart. */
  setDutyCycle(duty: number): void {
    if (!(duty > 0 && duty <= 1))
      throw new TandemError('BAD_ARGUMENT', `duty cycle must be in (0, 1], got ${duty}`)
    this.options.dutyCycle = duty
    Atomics.store(this.control, CTL.dutyPermille, Math.round(duty * 1000))
  }

  /** Applies to the next job (a running job keeps its worker count). */
  setOptions(options: Partial<EngineOptions>): void {
    if (options.dutyCycle !== undefined) this.setDutyCycle(options.dutyCycle)
    this.options = { ...this.options, ...options, dutyCycle: this.options.dutyCycle }
  }

  pause(): void {
    Atomics.compareExchange(this.control, CTL.state, STATE.running, STATE.paused)
  }

  resume(): void {
    if (
      Atomics.compareExchange(this.control, CTL.state, STATE.paused, STATE.running) === STATE.paused
    ) {
      Atomics.notify(this.control, CTL.state)
    }
  }

  /** Ends the running job; its train() promise rejects with ENGINE_STOPPED. */
  stop(): void {
    Atomics.store(this.control, CTL.state, STATE.stopped)
    Atomics.notify(this.control, CTL.state)
  }

  async train(req: TrainRequest): Promise<TrainOutcome> {
    if (this.busy) throw new TandemError('WRONG_STATE', 'the engine is already training')
    this.busy = true
    Atomics.store(this.control, CTL.state, STATE.running)
    try {
      this.checkMemory(req.job.spec, req.batchSize)
    } catch (err) {
      this.busy = false
      throw err
    }
    const failures: TrainOutcome['failures'] = []
    const exclude: BackendName[] = [...(this.options.exclude ?? [])]
    try {
      const table =
        this.options.backend === 'auto'
          ? await this.measuredTable(req.job.spec, req.batchSize, req.job.weights)
          : null
      for (;;) {
        try {
          const outcome = await this.attempt(
            req,
            nextChoice(table, exclude, this.options.backend),
            exclude,
            {
              control: this.control,
              onReady: (selection) => {
                const shown = withTable(selection, table, exclude)
                this.emit('backend', shown)
                return shown
              },
            },
          )
          return { ...outcome, failures }
        } catch (err) {
          const fault = err as { backend?: BackendName; fallback?: boolean; message: string }
          if (!fault.fallback || !fault.backend || this.options.backend !== 'auto') throw err
          failures.push({ backend: fault.backend, message: fault.message })
          exclude.push(fault.backend)
          this.emit('fallback', { from: fault.backend, reason: fault.message })
        } finally {
          await this.terminateWorkers()
        }
      }
    } finally {
      this.busy = false
    }
  }

  /**
   * The measured speed of every usable backend on this model and batch (cached per device,
   * driver, Tandem version, model and batch), fastest first. Not while a job runs.
   */
  async measure(spec: ModelSpec, batchSize: number): Promise<SpeedTable> {
    if (this.busy) throw new TandemError('WRONG_STATE', 'the engine is already training')
    this.checkMemory(spec, batchSize)
    this.busy = true
    Atomics.store(this.control, CTL.state, STATE.running)
    try {
      return await this.measuredTable(spec, batchSize)
    } finally {
      this.busy = false
    }
  }

  /** Refuses a model that will not fit in host memory, before anything starts. */
  private checkMemory(spec: ModelSpec, batchSize: number): void {
    const memory = estimateMemory(spec, batchSize)
    const limit = this.options.memoryLimitBytes ?? Math.floor(freemem() * 0.8)
    if (memory.totalBytes > limit) {
      throw new TandemError(
        'ENGINE_OUT_OF_MEMORY',
        `This model needs about ${mb(memory.totalBytes)} MB to train at batch ${batchSize}; ${mb(limit)} MB is available`,
      )
    }
  }

  /** Forgets the probed devices, so the next measurement probes again (a driver was updated). */
  reprobe(): void {
    this.statuses = null
  }

  private probeAll(): Promise<BackendStatus[]> {
    this.statuses ??= (async () => {
      // A probe registers its backend in this thread's tfjs; settle this thread's own backend
      // first, so what runs here (scoring) never depends on a probe (see node/backend-report.ts).
      await tf.ready()
      const probe = this.options.probe ?? probeBackend
      const out: BackendStatus[] = []
      for (const name of BACKENDS) out.push(await probe(name))
      return out
    })()
    return this.statuses
  }

  private async measuredTable(
    spec: ModelSpec,
    batchSize: number,
    weights?: Float32Array,
  ): Promise<SpeedTable> {
    const excluded = this.options.exclude ?? []
    const statuses = (await this.probeAll()).map((s): BackendStatus =>
      excluded.includes(s.name) ? { ...s, available: false, detail: 'excluded' } : s,
    )
    const workers = Math.max(1, Math.min(this.options.maxThreads, batchSize))
    const version = packageInfo().version
    const memory = this.tables
    const persistent = this.options.speedCache
    const table = await measureSpeeds({
      spec,
      batch: batchSize,
      workers,
      statuses,
      version,
      now: this.options.now,
      cache: {
        get: async (key) => memory.get(key) ?? (await persistent?.get(key)) ?? null,
        put: async (t) => {
          memory.set(t.key, t)
          await persistent?.put(t)
        },
      },
      measure: (name) =>
        this.options.measurer
          ? this.options.measurer(name, spec, batchSize)
          : timeBackend(this.timingHost(), name, spec, batchSize, weights),
    })
    memory.set(table.key, table)
    return table
  }

  /** The engine's workers as `auto`'s timing uses them (backend-timing.ts). */
  private timingHost(): TimingHost {
    return {
      ...(this.options.measureBudget ? { budget: this.options.measureBudget } : {}),
      stopped: () => Atomics.load(this.control, CTL.state) === STATE.stopped,
      run: (req, name, control, onReady) =>
        this.attempt(req, name, [], { control, onReady, quiet: true }),
      terminate: () => this.terminateWorkers(),
    }
  }

  private async attempt(
    req: TrainRequest,
    preference: BackendPreference,
    exclude: BackendName[],
    mode: {
      control: Int32Array
      /** The workers are ready; returns the selection as reported (with the measured table). */
      onReady: (selection: BackendSelection) => BackendSelection
      /** Measuring: no 'step' events. */
      quiet?: boolean
    },
  ): Promise<Omit<TrainOutcome, 'failures'>> {
    const first = this.spawn()
    const { selection, gpuLimits } = await this.select(first, preference, exclude)
    if (gpuLimits) {
      try {
        checkGpuMemory(req.job.spec, req.batchSize, selection.device, {
          ...gpuLimits,
          ...(this.options.gpuMemoryLimitBytes !== undefined
            ? { budgetBytes: this.options.gpuMemoryLimitBytes }
            : {}),
        })
      } catch (err) {
        // Refused up front; under `auto` the next backend may still fit it.
        throw Object.assign(err as Error, { backend: selection.chosen, fallback: true })
      }
    }
    const count = GPU_BACKENDS.includes(selection.chosen)
      ? 1
      : Math.max(1, Math.min(this.options.maxThreads, req.batchSize))
    for (let r = 1; r < count; r++) await this.select(this.spawn(), selection.chosen, [])
    const reported = mode.onReady(selection)

    const parallel =
      count > 1 ? hostParallelBuffers(req.job.weights.length, count, req.job.weights) : undefined
    const feed = new BatchFeed(req.openData(), count)
    const steps = new StepMerger(count, (info) => {
      req.onStep?.(info)
      if (!mode.quiet) this.emit('step', info)
    })

    const results = await Promise.all(
      this.workers.map(
        (worker, rank) =>
          new Promise<Extract<FromWorker, { type: 'done' }>>((resolve, reject) => {
            worker.on('message', (msg: FromWorker) => {
              if (msg.type === 'need-batch') {
                feed.slice(msg.step, rank).then(
                  (batch) =>
                    // Moved, not copied: the engine owns batches (see DataSource in batch.ts).
                    worker.postMessage(
                      { type: 'batch', step: msg.step, batch } satisfies ToWorker,
                      batchBuffers(batch),
                    ),
                  (err: unknown) => reject(err),
                )
              } else if (msg.type === 'step') steps.add(rank, msg.info)
              else if (msg.type === 'done') resolve(msg)
              else if (msg.type === 'error') reject(workerError(msg, selection.chosen))
            })
            worker.on('error', (err) =>
              reject(Object.assign(err, { backend: selection.chosen, fallback: true })),
            )
            worker.on('exit', (code) =>
              reject(
                Object.assign(new Error(`training worker exited with code ${code}`), {
                  backend: selection.chosen,
                  fallback: true,
                }),
              ),
            )
            const run: ToWorker = {
              type: 'run',
              job: req.job,
              control: mode.control.buffer as SharedArrayBuffer,
              ...(parallel ? { parallel: { ...parallel, rank } } : {}),
              ...(req.fault ? { fault: req.fault } : {}),
            }
            worker.postMessage(run)
          }),
      ),
    )
    const lead = results[0] as Extract<FromWorker, { type: 'done' }>
    return {
      delta: lead.delta,
      losses: steps.losses(),
      samples: results.reduce((n, r) => n + r.samples, 0),
      seconds: Math.max(...results.map((r) => r.seconds)),
      backend: reported,
      workers: count,
    }
  }

  private spawn(): Worker {
    const worker = spawnWorker()
    this.workers.push(worker)
    return worker
  }

  private select(
    worker: Worker,
    backend: BackendPreference,
    exclude: BackendName[],
  ): Promise<Extract<FromWorker, { type: 'ready' }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') {
          worker.off('message', onMessage)
          resolve(msg)
        } else if (msg.type === 'error') {
          worker.off('message', onMessage)
          reject(
            new TandemError(
              msg.code === BACKEND_FAULT
                ? 'ENGINE_BACKEND_UNAVAILABLE'
                : (msg.code as 'ENGINE_FAILED'),
              msg.message,
            ),
          )
        }
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
      worker.postMessage({ type: 'select', backend, exclude } satisfies ToWorker)
    })
  }

  private async terminateWorkers(): Promise<void> {
    const workers = this.workers
    this.workers = []
    for (const w of workers) w.removeAllListeners('exit')
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

function workerError(msg: Extract<FromWorker, { type: 'error' }>, backend: BackendName): Error {
  if (msg.code === BACKEND_FAULT) {
    return Object.assign(
      new TandemError('ENGINE_FAILED', `${msg.backend ?? backend} failed: ${msg.message}`),
      {
        backend: msg.backend ?? backend,
        fallback: true,
      },
    )
  }
  return new TandemError(msg.code as 'ENGINE_FAILED', msg.message)
}

const mb = (bytes: number) => Math.ceil(bytes / 2 ** 20)
