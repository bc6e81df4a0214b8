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
import type { BackendName, BackendPreference, BackendSelection } from './backends/probe.js'
import type { Batch, DataSource } from './batch.js'
import type { InnerJob, InnerResult, StepInfo } from './inner-loop.js'
import { hostParallelBuffers } from './optim/host-adamw.js'
import { estimateMemory } from './spec/cost.js'
import { checkGpuMemory } from './spec/gpu-memory.js'
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
}

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

const GPU_BACKENDS: readonly BackendName[] = ['tfjs-node-gpu', 'webgpu']

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
  private options: Required<
    Omit<EngineOptions, 'memoryLimitBytes' | 'gpuMemoryLimitBytes' | 'exclude'>
  > &
    Pick<EngineOptions, 'memoryLimitBytes' | 'gpuMemoryLimitBytes' | 'exclude'>
  private workers: Worker[] = []
  private busy = false

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
    const memory = estimateMemory(req.job.spec, req.batchSize)
    const limit = this.options.memoryLimitBytes ?? Math.floor(freemem() * 0.8)
    if (memory.totalBytes > limit) {
      this.busy = false
      throw new TandemError(
        'ENGINE_OUT_OF_MEMORY',
        `This model needs about ${mb(memory.totalBytes)} MB to train at batch ${req.batchSize}; ${mb(limit)} MB is available`,
      )
    }
    const failures: TrainOutcome['failures'] = []
    const exclude: BackendName[] = [...(this.options.exclude ?? [])]
    try {
      for (;;) {
        try {
          const outcome = await this.attempt(req, exclude)
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

  private async attempt(
    req: TrainRequest,
    exclude: BackendName[],
  ): Promise<Omit<TrainOutcome, 'failures'>> {
    const first = this.spawn()
    const { selection, gpuLimits } = await this.select(first, this.options.backend, exclude)
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
    this.emit('backend', selection)

    const parallel =
      count > 1 ? hostParallelBuffers(req.job.weights.length, count, req.job.weights) : undefined
    const feed = new BatchFeed(req.openData(), count)
    const steps = new StepMerger(count, (info) => {
      req.onStep?.(info)
      this.emit('step', info)
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
              control: this.control.buffer as SharedArrayBuffer,
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
      backend: selection,
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

/**
 * Serves each step's batch to the data-parallel ranks, each taking an equal slice of the rows.
 * Steps are read from the source strictly in order.
 */
class BatchFeed {
  private readonly cache = new Map<number, { batch: Batch; taken: number }>()
  private chain: Promise<unknown> = Promise.resolve()
  private nextStep = 0

  constructor(
    private readonly source: DataSource,
    private readonly ranks: number,
  ) {}

  async slice(step: number, rank: number): Promise<Batch> {
    const entry = await this.load(step)
    entry.taken++
    if (entry.taken === this.ranks) this.cache.delete(step)
    return this.ranks === 1 ? entry.batch : sliceRows(entry.batch, rank, this.ranks)
  }

  private load(step: number): Promise<{ batch: Batch; taken: number }> {
    const next = this.chain.then(async () => {
      while (this.nextStep <= step) {
        this.cache.set(this.nextStep, { batch: await this.source.next(), taken: 0 })
        this.nextStep++
      }
      const entry = this.cache.get(step)
      if (!entry)
        throw new TandemError('ENGINE_FAILED', `batch ${step} was requested twice by every rank`)
      return entry
    })
    // The caller awaits `next` and gets its error; the chain only orders the steps, so one failed
    // step must not fail every later one.
    this.chain = next.catch(() => undefined)
    return next
  }
}

function batchBuffers(batch: Batch): ArrayBuffer[] {
  const arrays = batch.kind === 'tokens' ? [batch.tokens] : [batch.x, batch.y]
  return arrays.map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)
}

export function sliceRows(batch: Batch, rank: number, ranks: number): Batch {
  const from = Math.floor((rank * batch.batch) / ranks)
  const to = Math.floor(((rank + 1) * batch.batch) / ranks)
  if (batch.kind === 'tokens') {
    const row = batch.seqLen + 1
    return { ...batch, batch: to - from, tokens: batch.tokens.slice(from * row, to * row) }
  }
  const row = batch.shape.reduce((a, b) => a * b, 1)
  return {
    ...batch,
    batch: to - from,
    x: batch.x.slice(from * row, to * row),
    y: batch.y.slice(from, to),
  }
}

/** Combines per-rank step reports into one per step: mean loss, summed samples. */
class StepMerger {
  private readonly parts = new Map<number, StepInfo[]>()
  private readonly merged: number[] = []

  constructor(
    private readonly ranks: number,
    private readonly emit: (info: StepInfo) => void,
  ) {}

  add(_rank: number, info: StepInfo): void {
    const list = this.parts.get(info.step) ?? []
    list.push(info)
    if (list.length < this.ranks) {
      this.parts.set(info.step, list)
      return
    }
    this.parts.delete(info.step)
    const loss = list.reduce((s, i) => s + i.loss, 0) / list.length
    this.merged.push(loss)
    this.emit({
      step: info.step,
      loss,
      lr: info.lr,
      gradNorm: Math.max(...list.map((i) => i.gradNorm)),
      samples: list.reduce((s, i) => s + i.samples, 0),
      ms: Math.max(...list.map((i) => i.ms)),
      optimizerMs: Math.max(...list.map((i) => i.optimizerMs)),
      dataMs: Math.max(...list.map((i) => i.dataMs)),
    })
  }

  losses(): number[] {
    return this.merged
  }
}
