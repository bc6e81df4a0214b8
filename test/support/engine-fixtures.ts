/** Small specs, jobs and deterministic synthetic data for engine tests and benchmarks. */
import type { Batch, DataSource } from '../../core/engine/batch.js'
import type { TrainingEngine, TrainRequest } from '../../core/engine/engine.js'
import type { InnerJob, StepInfo } from '../../core/engine/inner-loop.js'
import { seededRandom } from '../../core/engine/model/init.js'
import { DEFAULT_ADAMW } from '../../core/engine/optim/adamw.js'
import { parseSpec } from '../../core/engine/spec/parse.js'
import type { ModelSpec } from '../../core/engine/spec/schema.js'
import { initialWeights } from '../../core/engine/model/init.js'

export const tinyMlp = () =>
  parseSpec({ type: 'mlp', inputSize: 12, hidden: [8], classes: 3, activation: 'tanh' })
export const tinyCnn = () =>
  parseSpec({
    type: 'cnn',
    input: { height: 6, width: 6, channels: 2 },
    layers: [
      { type: 'conv2d', filters: 3, kernel: 3 },
      { type: 'maxpool', size: 2 },
    ],
    dense: [5],
    classes: 3,
    activation: 'tanh',
  })
export const tinyTransformer = () =>
  parseSpec({
    type: 'transformer',
    vocab: 11,
    context: 6,
    dModel: 8,
    heads: 2,
    layers: 1,
    mlpRatio: 2,
  })

/**
 * Models with at least 8 parameter tensors: AdamW's global norm sums one square-sum per tensor, so
 * these are the models the unpatched AddN got wrong.
 */
export const deepMlp = () =>
  parseSpec({ type: 'mlp', inputSize: 12, hidden: [8, 8, 8, 8], classes: 3, activation: 'tanh' })
export const twoConvCnn = () =>
  parseSpec({
    type: 'cnn',
    input: { height: 6, width: 6, channels: 2 },
    layers: [
      { type: 'conv2d', filters: 3, kernel: 3 },
      { type: 'conv2d', filters: 3, kernel: 3 },
    ],
    dense: [5],
    classes: 3,
    activation: 'tanh',
  })

/** A learnable synthetic task: the label is the index of the largest of the first `classes` features. */
export function syntheticBatch(spec: ModelSpec, batch: number, seed: number): Batch {
  const rand = seededRandom(seed)
  if (spec.type === 'transformer') {
    // Counting sequences mod vocab with a random start: next-token prediction is learnable.
    const row = spec.context + 1
    const tokens = new Int32Array(batch * row)
    for (let b = 0; b < batch; b++) {
      const start = Math.floor(rand() * spec.vocab)
      for (let t = 0; t < row; t++) tokens[b * row + t] = (start + t) % spec.vocab
    }
    return { kind: 'tokens', batch, seqLen: spec.context, tokens }
  }
  const shape =
    spec.type === 'cnn'
      ? [spec.input.height, spec.input.width, spec.input.channels]
      : [spec.inputSize]
  const features = shape.reduce((a, b) => a * b, 1)
  const x = new Float32Array(batch * features)
  const y = new Int32Array(batch)
  for (let b = 0; b < batch; b++) {
    let best = 0
    for (let f = 0; f < features; f++) {
      const v = rand()
      x[b * features + f] = v
      if (f < spec.classes && v > (x[b * features + best] as number)) best = f
    }
    y[b] = best
  }
  return { kind: 'tensors', batch, shape, x, y }
}

export function syntheticData(spec: ModelSpec, batch: number, seed: number): DataSource {
  let step = 0
  return { next: async () => syntheticBatch(spec, batch, seed * 100_003 + step++) }
}

/**
 * Cycles through a few pre-made batches, handing out copies: cheap for the main thread, so
 * throughput benchmarks measure training rather than data generation.
 */
export function recycledData(
  spec: ModelSpec,
  batch: number,
  seed: number,
  distinct = 8,
): DataSource {
  const pool = Array.from({ length: distinct }, (_, i) =>
    syntheticBatch(spec, batch, seed * 100_003 + i),
  )
  let step = 0
  return {
    next: async () => {
      const b = pool[step++ % distinct] as Batch
      return b.kind === 'tokens'
        ? { ...b, tokens: b.tokens.slice() }
        : { ...b, x: b.x.slice(), y: b.y.slice() }
    },
  }
}

export function innerJob(spec: ModelSpec, steps: number, seed = 1): InnerJob {
  return {
    spec,
    weights: initialWeights(spec, seed),
    steps,
    schedule: { peakLr: 3e-3, warmupSteps: 2, totalSteps: 200, minLrRatio: 0.1 },
    adamw: DEFAULT_ADAMW,
    stepOffset: 0,
  }
}

/**
 * Trains `req` and returns the share of wall time spent computing, from the first step's start to
 * the last step's end (each step's own `ms` is compute; the rest is the duty cycle's sleep).
 */
export async function computeShare(engine: TrainingEngine, req: TrainRequest): Promise<number> {
  let computeMs = 0
  let first = 0
  let last = 0
  engine.on('step', (info: StepInfo) => {
    computeMs += info.ms
    if (info.step === 0) first = performance.now() - info.ms
    last = performance.now()
  })
  await engine.train(req)
  return computeMs / (last - first)
}
