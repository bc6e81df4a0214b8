/**
 * Batches for timing a backend: random inputs of the model's shape and size, made once and handed
 * out as copies (the engine moves each batch to a worker). What they contain does not matter for
 * speed; that they are valid (labels in range, tokens in the vocabulary) does.
 */
import type { Batch, DataSource } from '../batch.js'
import { seededRandom } from '../model/init.js'
import type { ModelSpec } from '../spec/schema.js'

export function measurementBatch(spec: ModelSpec, batch: number): Batch {
  const rand = seededRandom(7)
  if (spec.type === 'transformer') {
    const tokens = new Int32Array(batch * (spec.context + 1))
    for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(rand() * spec.vocab)
    return { kind: 'tokens', batch, seqLen: spec.context, tokens }
  }
  const shape =
    spec.type === 'cnn'
      ? [spec.input.height, spec.input.width, spec.input.channels]
      : [spec.inputSize]
  const x = new Float32Array(batch * shape.reduce((a, b) => a * b, 1))
  for (let i = 0; i < x.length; i++) x[i] = rand()
  const y = new Int32Array(batch)
  for (let i = 0; i < batch; i++) y[i] = Math.floor(rand() * spec.classes)
  return { kind: 'tensors', batch, shape, x, y }
}

export function measurementData(spec: ModelSpec, batch: number): DataSource {
  const base = measurementBatch(spec, batch)
  return {
    next: async () =>
      base.kind === 'tokens'
        ? { ...base, tokens: base.tokens.slice() }
        : { ...base, x: base.x.slice(), y: base.y.slice() },
  }
}
