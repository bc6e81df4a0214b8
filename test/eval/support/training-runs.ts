/**
 * The three ways the convergence experiment trains one model, all in this process on the engine's
 * own code (tfjs model, AdamW, schedule; for DiLoCo also error-feedback compression, the project's
 * aggregation rule and the Nesterov outer step, exactly what contributors and the host run):
 *
 * - `dilocoRun`: W workers, each H inner steps per round from the round's global weights
 *   (`runInnerLoop`, a fresh AdamW each round as in the participant), Δs compressed, aggregated,
 *   outer step. The workers run one after another here; wall time is modelled as if they ran in
 *   parallel: the slowest worker's measured compute, plus the measured aggregation, plus sending
 *   the compressed update and receiving the fp32 checkpoint over a link of `linkBytesPerSec`.
 * - `continuousRun`: one optimizer over many steps (single worker, or the synchronous baseline with
 *   W× the batch). Wall time: measured compute for the single worker; for synchronous
 *   data-parallel, W workers computing a 1/W slice each in parallel (the single worker's measured
 *   step time) plus a ring all-reduce of fp32 gradients over the same link each step.
 */
import type { Batch } from '../../../core/engine/batch.js'
import { aggregate, type AggregationConfig } from '../../../core/aggregate/aggregate.js'
import { contributionWeight } from '../../../core/aggregate/weights.js'
import { checkpointByteLength } from '../../../core/engine/checkpoint.js'
import {
  ErrorFeedback,
  type CompressionConfig,
} from '../../../core/engine/compress/error-feedback.js'
import {
  evaluateLoss,
  readFlat,
  runInnerLoop,
  stepLearningRate,
  weightsToVariables,
} from '../../../core/engine/inner-loop.js'
import { batchTensors, lossFunction } from '../../../core/engine/model/forward.js'
import { paramLayout } from '../../../core/engine/model/layout.js'
import { AdamW, createAdamW, type AdamWConfig } from '../../../core/engine/optim/adamw.js'
import { nesterovOuterStep, type OuterConfig } from '../../../core/engine/optim/nesterov.js'
import { learningRate, type LrSchedule } from '../../../core/engine/optim/schedule.js'
import type { ModelSpec } from '../../../core/engine/spec/schema.js'
import * as tf from '../../../core/engine/tf.js'

export interface CurvePoint {
  samples: number
  /** Modelled wall-clock seconds (see the file comment). */
  wallSec: number
  loss: number
}

export interface RunResult {
  label: string
  points: CurvePoint[]
  /** Measured compute seconds, summed over every worker. */
  computeSec: number
  /** Modelled communication seconds on the critical path. */
  commSec: number
  /** Bytes one worker sends / receives over the whole run. */
  bytesSentPerWorker: number
  bytesReceivedPerWorker: number
  /** Mean measured seconds per inner step of one worker. */
  stepSec: number
  finalLoss: number
}

export interface Common {
  spec: ModelSpec
  initial: Float32Array
  schedule: LrSchedule
  adamw: AdamWConfig
  validation: Batch
  linkBytesPerSec: number
}

export interface DilocoConfig extends Common {
  workers: number
  innerSteps: number
  rounds: number
  /** One batch source per worker. */
  streams: (() => Batch)[]
  compression: CompressionConfig
  aggregation: AggregationConfig
  outer: OuterConfig
  /** Evaluate every this many rounds (and after the last). */
  evalEveryRounds: number
  /** recipe.inner.rewarmupSteps (inner-loop.ts stepLearningRate); absent: none. */
  rewarmupSteps?: number
  /**
   * Each worker keeps its AdamW moments (and step count) from one round to the next instead of
   * starting a fresh optimizer every round (every worker here takes every round).
   */
  keepMoments?: boolean
  log?: (line: string) => void
}

/** One worker's inner loop that keeps its variables and AdamW across rounds (keepMoments). */
class PersistentWorker {
  private readonly vars: tf.Variable[]
  private readonly fn: ReturnType<typeof lossFunction>
  private readonly optimizer: ReturnType<typeof createAdamW>

  constructor(private readonly c: DilocoConfig) {
    this.vars = weightsToVariables(c.spec, c.initial)
    this.fn = lossFunction(c.spec)
    this.optimizer = createAdamW(
      this.vars,
      paramLayout(c.spec).map((p) => p.decay),
      c.adamw,
    )
  }

  async round(weights: Float32Array, stepOffset: number, stream: () => Batch) {
    let offset = 0
    for (const v of this.vars) {
      v.assign(tf.tensor(weights.subarray(offset, offset + v.size), v.shape, 'float32'))
      offset += v.size
    }
    let samples = 0
    const job = { schedule: this.c.schedule, stepOffset, rewarmupSteps: this.c.rewarmupSteps ?? 0 }
    for (let s = 0; s < this.c.innerSteps; s++) {
      const batch = stream()
      const tensors = batchTensors(this.c.spec, batch)
      const { value, grads } = tf.variableGrads(() => this.fn.loss(this.vars, tensors), this.vars)
      const gradList = this.vars.map((v) => grads[v.name] as tf.Tensor)
      const norm = this.optimizer.step(gradList, stepLearningRate(job, s))
      await norm.data()
      tf.dispose([norm, value, tensors.x, tensors.y, ...gradList])
      samples += batch.batch
    }
    const local = await readFlat(this.vars, weights.length)
    const delta = new Float32Array(local.length)
    for (let i = 0; i < delta.length; i++) delta[i] = (weights[i] as number) - (local[i] as number)
    return { delta, samples }
  }

  dispose(): void {
    this.optimizer.dispose()
    this.fn.dispose()
    tf.dispose(this.vars)
  }
}

export async function dilocoRun(label: string, c: DilocoConfig): Promise<RunResult> {
  const n = c.initial.length
  const feedback = c.streams.map(() => new ErrorFeedback(n))
  const persistent = c.keepMoments ? c.streams.map(() => new PersistentWorker(c)) : null
  let weights = c.initial
  let momentum: Float32Array | null = null
  let wall = 0
  let samples = 0
  let computeSec = 0
  let commSec = 0
  let sent = 0
  let received = 0
  let steps = 0
  const points: CurvePoint[] = [
    { samples: 0, wallSec: 0, loss: await evaluateLoss(c.spec, weights, c.validation) },
  ]
  const checkpointBytes = checkpointByteLength(c.spec)
  for (let r = 0; r < c.rounds; r++) {
    const updates = []
    let slowest = 0
    let upBytes = 0
    for (let w = 0; w < c.workers; w++) {
      const stream = c.streams[w] as () => Batch
      const t0 = performance.now()
      const result = persistent
        ? await (persistent[w] as PersistentWorker).round(weights, r * c.innerSteps, stream)
        : await runInnerLoop(
            {
              spec: c.spec,
              weights,
              steps: c.innerSteps,
              schedule: c.schedule,
              adamw: c.adamw,
              stepOffset: r * c.innerSteps,
              ...(c.rewarmupSteps ? { rewarmupSteps: c.rewarmupSteps } : {}),
            },
            { nextBatch: async () => stream() },
          )
      const packed = (feedback[w] as ErrorFeedback).compress(result.delta, c.compression)
      const seconds = (performance.now() - t0) / 1000
      slowest = Math.max(slowest, seconds)
      computeSec += seconds
      steps += c.innerSteps
      upBytes = Math.max(upBytes, packed.byteLength)
      samples += result.samples
      updates.push({ update: packed.bytes, weight: contributionWeight(result.samples, 1) })
    }
    const t1 = performance.now()
    const combined = aggregate(updates, c.aggregation, { expectedLength: n })
    const next = nesterovOuterStep(weights, combined.aggregate, momentum, c.outer)
    weights = next.weights
    momentum = next.momentum
    const aggregateSec = (performance.now() - t1) / 1000
    // Upload the compressed Δ, then (after aggregation) download the next checkpoint.
    const comm = (upBytes + checkpointBytes) / c.linkBytesPerSec
    commSec += comm
    sent += upBytes
    received += checkpointBytes
    wall += slowest + aggregateSec + comm
    if ((r + 1) % c.evalEveryRounds === 0 || r === c.rounds - 1) {
      const loss = await evaluateLoss(c.spec, weights, c.validation)
      points.push({ samples, wallSec: wall, loss })
      c.log?.(
        `${label}: round ${r + 1}/${c.rounds}, samples ${samples}, val loss ${loss.toFixed(4)}`,
      )
    }
  }
  for (const p of persistent ?? []) p.dispose()
  return {
    label,
    points,
    computeSec,
    commSec,
    bytesSentPerWorker: sent,
    bytesReceivedPerWorker: received,
    stepSec: computeSec / steps,
    finalLoss: (points.at(-1) as CurvePoint).loss,
  }
}

export interface ContinuousConfig extends Common {
  steps: number
  nextBatch: () => Batch
  evalEvery: number
  /**
   * Synchronous data-parallel over this many workers (the batch is theirs together): wall time per
   * step is `workerStepSec` plus a ring all-reduce of fp32 gradients. Absent: a single worker,
   * wall time = measured compute.
   */
  dataParallel?: { workers: number; workerStepSec: number }
  log?: (line: string) => void
}

/** The bytes one worker sends (and receives) per ring all-reduce of n fp32 values over W workers. */
export function ringAllReduceBytes(n: number, workers: number): number {
  return (2 * (workers - 1) * 4 * n) / workers
}

export async function continuousRun(label: string, c: ContinuousConfig): Promise<RunResult> {
  const layout = paramLayout(c.spec)
  const vars = weightsToVariables(c.spec, c.initial)
  const fn = lossFunction(c.spec)
  const optimizer = new AdamW(
    vars,
    layout.map((p) => p.decay),
    c.adamw,
  )
  const n = c.initial.length
  const points: CurvePoint[] = [
    { samples: 0, wallSec: 0, loss: await evaluateLoss(c.spec, c.initial, c.validation) },
  ]
  const dp = c.dataParallel
  const perStepBytes = dp ? ringAllReduceBytes(n, dp.workers) : 0
  let computeSec = 0
  let commSec = 0
  let wall = 0
  let samples = 0
  try {
    for (let s = 0; s < c.steps; s++) {
      const batch = c.nextBatch()
      const t0 = performance.now()
      const tensors = batchTensors(c.spec, batch)
      const { value, grads } = tf.variableGrads(() => fn.loss(vars, tensors), vars)
      const norm = optimizer.step(
        vars.map((v) => grads[v.name] as tf.Tensor),
        learningRate(c.schedule, s),
      )
      await norm.data()
      tf.dispose([norm, value, tensors.x, tensors.y, ...Object.values(grads)])
      const seconds = (performance.now() - t0) / 1000
      computeSec += seconds
      samples += batch.batch
      if (dp) {
        const comm = perStepBytes / c.linkBytesPerSec
        commSec += comm
        wall += dp.workerStepSec + comm
      } else wall += seconds
      if ((s + 1) % c.evalEvery === 0 || s === c.steps - 1) {
        const loss = await evaluateLoss(c.spec, await readFlat(vars, n), c.validation)
        points.push({ samples, wallSec: wall, loss })
        c.log?.(
          `${label}: step ${s + 1}/${c.steps}, samples ${samples}, val loss ${loss.toFixed(4)}`,
        )
      }
    }
  } finally {
    optimizer.dispose()
    fn.dispose()
    tf.dispose(vars)
  }
  return {
    label,
    points,
    computeSec,
    commSec,
    bytesSentPerWorker: dp ? perStepBytes * c.steps : 0,
    bytesReceivedPerWorker: dp ? perStepBytes * c.steps : 0,
    stepSec: computeSec / c.steps,
    finalLoss: (points.at(-1) as CurvePoint).loss,
  }
}

/** The loss a run had reached by `wallSec` (its last evaluation at or before it). */
export function lossAtWall(run: RunResult, wallSec: number): number {
  let loss = (run.points[0] as CurvePoint).loss
  for (const p of run.points) if (p.wallSec <= wallSec) loss = p.loss
  return loss
}
