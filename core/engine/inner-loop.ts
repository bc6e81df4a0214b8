/**
 * The DiLoCo inner loop: start from the global weights θ, take H AdamW steps on batches from the
 * data source, and return the pseudo-gradient Δ = θ_global − θ_local. Runtime-neutral (Node worker
 * or browser window): it only needs an initialised TensorFlow.js backend.
 */
import * as tf from './tf.js'
import { TandemError } from '../api/errors.js'
import type { Batch } from './batch.js'
import { batchTensors, lossFunction } from './model/forward.js'
import { paramLayout, sizeOf } from './model/layout.js'
import { createAdamW, type AdamWConfig, type InnerOptimizer } from './optim/adamw.js'
import type { HostAdamW } from './optim/host-adamw.js'
import { learningRate, type LrSchedule } from './optim/schedule.js'
import type { ModelSpec } from './spec/schema.js'

export interface InnerJob {
  spec: ModelSpec
  /** θ_global, flat in layout order. Not modified. */
  weights: Float32Array
  /** H: inner steps in this round. */
  steps: number
  schedule: LrSchedule
  adamw: AdamWConfig
  /** Global index of this round's first inner step (round × H), for the schedule. */
  stepOffset: number
  /**
   * Re-warmup: the scheduled lr × min(1, (s + 1) / rewarmupSteps) at local step s of every round,
   * because the AdamW moments start at zero each round (docs/engine.md, "Re-warmup"). 0 or absent:
   * none (the rule of recipes without the field).
   */
  rewarmupSteps?: number
}

/** The lr of local step `s` of a job: the global schedule, scaled by the round's re-warmup. */
export function stepLearningRate(
  job: Pick<InnerJob, 'schedule' | 'stepOffset' | 'rewarmupSteps'>,
  s: number,
): number {
  const lr = learningRate(job.schedule, job.stepOffset + s)
  const r = job.rewarmupSteps ?? 0
  return r > 0 ? lr * Math.min(1, (s + 1) / r) : lr
}

export interface StepInfo {
  step: number
  loss: number
  lr: number
  gradNorm: number
  samples: number
  ms: number
  /** Of `ms`, the time in the optimizer step (with data-parallel workers: including the barriers). */
  optimizerMs: number
  /** Of `ms`, the time spent waiting for the batch (data starvation when large). */
  dataMs: number
}

export interface InnerHooks {
  nextBatch(step: number): Promise<Batch>
  /** After each step; may await (pause, duty cycle) or throw to stop the loop. */
  onStep?(info: StepInfo): void | Promise<void>
  /**
   * Host-memory AdamW (CPU backends; data-parallel when it is sharded across workers). Without it
   * the optimizer runs as tfjs ops on the training device.
   */
  hostOptimizer?: HostAdamW
  /**
   * At the end of each step, after its results are read: waits for the device to finish and throws
   * on a device fault (WebGPU: backends/webgpu-device.ts settleWebgpu). Step times include it.
   */
  settle?(): Promise<void>
}

export interface InnerResult {
  delta: Float32Array
  losses: number[]
  samples: number
  seconds: number
}

let instance = 0

/** Flat buffer → one variable per parameter, named uniquely so several models can share a thread. */
export function weightsToVariables(spec: ModelSpec, flat: Float32Array): tf.Variable[] {
  const layout = paramLayout(spec)
  const total = layout.reduce((n, p) => n + sizeOf(p.shape), 0)
  if (flat.length !== total) {
    throw new TandemError(
      'SPEC_MISMATCH',
      `weights have ${flat.length} values; the spec needs ${total}`,
    )
  }
  const prefix = `m${instance++}`
  let offset = 0
  return layout.map((p, i) => {
    const n = sizeOf(p.shape)
    const v = tf.variable(
      tf.tensor(flat.subarray(offset, offset + n), p.shape, 'float32'),
      true,
      `${prefix}.${i}`,
    )
    offset += n
    return v
  })
}

export async function readFlat(
  tensors: readonly tf.Tensor[],
  total: number,
): Promise<Float32Array> {
  const out = new Float32Array(total)
  let offset = 0
  for (const t of tensors) {
    const data = (await t.data()) as Float32Array
    out.set(data, offset)
    offset += data.length
  }
  return out
}

/** One optimizer step on either path; returns the gradient's global norm before clipping. */
type StepFn = (grads: tf.Tensor[], lr: number) => Promise<number>

function deviceStep(optimizer: InnerOptimizer): StepFn {
  return async (grads, lr) => {
    const norm = optimizer.step(grads, lr)
    const value = (await norm.data())[0] as number
    norm.dispose()
    return value
  }
}

function hostStep(host: HostAdamW, vars: readonly tf.Variable[]): StepFn {
  return async (grads, lr) => {
    const row = host.gradientRow
    let offset = 0
    for (const g of grads) {
      const data = (await g.data()) as Float32Array
      row.set(data, offset)
      offset += data.length
    }
    const norm = host.step(lr)
    offset = 0
    for (const v of vars) {
      v.assign(tf.tensor(host.weights.subarray(offset, offset + v.size), v.shape, 'float32'))
      offset += v.size
    }
    return norm
  }
}

export async function runInnerLoop(job: InnerJob, hooks: InnerHooks): Promise<InnerResult> {
  const started = performance.now()
  const layout = paramLayout(job.spec)
  const vars = weightsToVariables(job.spec, job.weights)
  const fn = lossFunction(job.spec)
  const device = hooks.hostOptimizer
    ? null
    : createAdamW(
        vars,
        layout.map((p) => p.decay),
        job.adamw,
      )
  const step = device ? deviceStep(device) : hostStep(hooks.hostOptimizer as HostAdamW, vars)
  const losses: number[] = []
  let samples = 0
  try {
    for (let s = 0; s < job.steps; s++) {
      const t0 = performance.now()
      const batch = await hooks.nextBatch(s)
      const dataMs = performance.now() - t0
      const tensors = batchTensors(job.spec, batch)
      const { value, grads } = tf.variableGrads(() => fn.loss(vars, tensors), vars)
      const gradList = vars.map((v) => grads[v.name] as tf.Tensor)
      const lr = stepLearningRate(job, s)
      const t1 = performance.now()
      const gradNorm = await step(gradList, lr)
      const optimizerMs = performance.now() - t1
      const loss = (await value.data())[0] as number
      tf.dispose([value, tensors.x, tensors.y, ...gradList])
      await hooks.settle?.()
      if (!Number.isFinite(loss))
        throw new TandemError('ENGINE_FAILED', `loss became ${loss} at inner step ${s}`)
      losses.push(loss)
      samples += batch.batch
      await hooks.onStep?.({
        step: s,
        loss,
        lr,
        gradNorm,
        samples,
        ms: performance.now() - t0,
        optimizerMs,
        dataMs,
      })
    }
    const local = await readFlat(vars, job.weights.length)
    await hooks.settle?.()
    const delta = new Float32Array(local.length)
    for (let i = 0; i < delta.length; i++)
      delta[i] = (job.weights[i] as number) - (local[i] as number)
    return { delta, losses, samples, seconds: (performance.now() - started) / 1000 }
  } finally {
    device?.dispose()
    fn.dispose()
    tf.dispose(vars)
  }
}

/** Per-element weight-decay flags of a spec's flat weight vector. */
export function decayMask(spec: ModelSpec): Uint8Array {
  const mask = new Uint8Array(paramLayout(spec).reduce((n, p) => n + sizeOf(p.shape), 0))
  let offset = 0
  for (const p of paramLayout(spec)) {
    const n = sizeOf(p.shape)
    if (p.decay) mask.fill(1, offset, offset + n)
    offset += n
  }
  return mask
}

/** Mean loss of the given weights on one batch (no training): scoring and held-out evaluation. */
export async function evaluateLoss(
  spec: ModelSpec,
  weights: Float32Array,
  batch: Batch,
): Promise<number> {
  const vars = weightsToVariables(spec, weights)
  const fn = lossFunction(spec)
  try {
    const tensors = batchTensors(spec, batch)
    const loss = tf.tidy(() => fn.loss(vars, tensors))
    const value = (await loss.data())[0] as number
    tf.dispose([loss, tensors.x, tensors.y])
    return value
  } finally {
    fn.dispose()
    tf.dispose(vars)
  }
}

/**
 * The loss of each record of one batch (no training), for paired tests between two weight vectors
 * on the same records (core/host/scoring.ts). Records as in lossFunction().recordLosses.
 */
export async function evaluateRecordLosses(
  spec: ModelSpec,
  weights: Float32Array,
  batch: Batch,
): Promise<Float32Array> {
  const vars = weightsToVariables(spec, weights)
  const fn = lossFunction(spec)
  try {
    const tensors = batchTensors(spec, batch)
    const losses = tf.tidy(() => fn.recordLosses(vars, tensors))
    const values = (await losses.data()) as Float32Array
    tf.dispose([losses, tensors.x, tensors.y])
    return values
  } finally {
    fn.dispose()
    tf.dispose(vars)
  }
}

/** Loss and flat gradient of the given weights on one batch (diagnostics and backend parity checks). */
export async function lossAndGradients(
  spec: ModelSpec,
  weights: Float32Array,
  batch: Batch,
): Promise<{ loss: number; grads: Float32Array }> {
  const vars = weightsToVariables(spec, weights)
  const fn = lossFunction(spec)
  const tensors = batchTensors(spec, batch)
  try {
    const { value, grads } = tf.variableGrads(() => fn.loss(vars, tensors), vars)
    const flat = await readFlat(
      vars.map((v) => grads[v.name] as tf.Tensor),
      weights.length,
    )
    const loss = (await value.data())[0] as number
    tf.dispose([value, ...Object.values(grads)])
    return { loss, grads: flat }
  } finally {
    fn.dispose()
    tf.dispose([...vars, tensors.x, tensors.y])
  }
}
