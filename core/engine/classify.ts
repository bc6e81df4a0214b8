/**
 * "Try it" for image models: class probabilities of one input under a checkpoint's flat weights.
 * The caller passes the features exactly as training sees them (already scaled, row-major H·W·C);
 * the result is softmax(logits) and the top classes. Runs on whatever tfjs backend is active.
 */
import { TandemError } from '../api/errors.js'
import * as tf from './tf.js'
import { weightsToVariables } from './inner-loop.js'
import { classLogits } from './model/forward.js'
import type { ModelSpec } from './spec/schema.js'

export interface ImageShape {
  height: number
  width: number
  channels: number
}

export interface Classification {
  /** One probability per class, summing to 1. */
  probabilities: number[]
  /** The `top` most probable classes, most probable first, named when the dataset names them. */
  top: { index: number; probability: number; label?: string }[]
}

/**
 * The image a model takes: a CNN's input, or for an MLP the dataset's record shape ([H, W] or
 * [H, W, C] with 1, 3 or 4 channels). Language models and non-image feature vectors are refused
 * with BAD_ARGUMENT; a dataset whose records do not fill the model's input with SPEC_MISMATCH.
 */
export function imageShape(spec: ModelSpec, recordShape: readonly number[]): ImageShape {
  if (spec.type === 'transformer')
    throw new TandemError('BAD_ARGUMENT', 'a language model does not classify images')
  const [height, width, channels = 1] = recordShape
  const isImage =
    (recordShape.length === 2 || (recordShape.length === 3 && [1, 3, 4].includes(channels))) &&
    height !== undefined &&
    width !== undefined
  if (spec.type === 'mlp' && !isImage)
    throw new TandemError(
      'BAD_ARGUMENT',
      `records of shape [${recordShape.join(', ')}] are not images`,
    )
  const shape = spec.type === 'cnn' ? spec.input : { height: height!, width: width!, channels }
  const inputSize =
    spec.type === 'cnn' ? shape.height * shape.width * shape.channels : spec.inputSize
  if (recordShape.reduce((a, b) => a * b, 1) !== inputSize)
    throw new TandemError('SPEC_MISMATCH', "the model's input does not match its dataset's records")
  return shape
}

export async function classify(
  spec: ModelSpec,
  weights: Float32Array,
  features: Float32Array,
  top = 3,
  /** The dataset's class names by index (header `labels.names`), if it has them. */
  names: readonly string[] | null = null,
): Promise<Classification> {
  if (spec.type === 'transformer')
    throw new TandemError('BAD_ARGUMENT', 'a language model does not classify images')
  const shape =
    spec.type === 'cnn'
      ? [1, spec.input.height, spec.input.width, spec.input.channels]
      : [1, spec.inputSize]
  const size = shape.reduce((a, b) => a * b, 1)
  if (features.length !== size)
    throw new TandemError(
      'BAD_ARGUMENT',
      `the model takes ${size} input values, not ${features.length}`,
    )
  if (!features.every(Number.isFinite))
    throw new TandemError('BAD_ARGUMENT', 'input values must be finite numbers')
  const vars = weightsToVariables(spec, weights)
  try {
    const probs = tf.tidy(() => tf.softmax(classLogits(spec, vars, tf.tensor(features, shape))))
    const probabilities = Array.from((await probs.data()) as Float32Array)
    probs.dispose()
    const ranked = probabilities
      .map((probability, index) => {
        const label = names?.[index]
        return label === undefined ? { index, probability } : { index, probability, label }
      })
      .sort((a, b) => b.probability - a.probability || a.index - b.index)
    return { probabilities, top: ranked.slice(0, Math.max(1, top)) }
  } finally {
    tf.dispose(vars)
  }
}
