/**
 * Forward passes and losses of the three model families, written directly in TensorFlow.js ops (no
 * layers API): parameters come in as plain tensors in layout order, so the same code serves
 * training (variables), evaluation (checkpoint weights) and gradient checks. Runtime-neutral: it
 * runs in Node workers and in a browser window alike.
 */
import * as tf from '../tf.js'
import type { Batch } from '../batch.js'
import type { Activation, CnnSpec, MlpSpec, ModelSpec, TransformerSpec } from '../spec/schema.js'
import { conv2d } from './conv.js'
import { cnnStages } from './layout.js'
import { maxPool } from './pool.js'

/** Reads parameters in layout order. */
class Cursor {
  private i = 0
  constructor(private readonly params: readonly tf.Tensor[]) {}
  next<T extends tf.Tensor>(): T {
    const t = this.params[this.i++]
    if (!t) throw new Error('parameter list shorter than the layout')
    return t as T
  }
}

export function activate(x: tf.Tensor, fn: Activation): tf.Tensor {
  switch (fn) {
    case 'relu':
      return tf.relu(x)
    case 'tanh':
      return tf.tanh(x)
    case 'gelu': {
      // tanh approximation, as in GPT-2
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
    }
  }
}

function denseLayer(x: tf.Tensor2D, p: Cursor, act?: Activation): tf.Tensor2D {
  const w = p.next<tf.Tensor2D>()
  const b = p.next<tf.Tensor1D>()
  // Not tf.fused.matMul: its custom gradient always computes the input gradient too, which for the
  // first layer (x is data) is a whole wasted matmul; the plain ops let autodiff prune it.
  const y = tf.add(tf.matMul(x, w), b) as tf.Tensor2D
  return act ? (activate(y, act) as tf.Tensor2D) : y
}

function mlpLogits(spec: MlpSpec, p: Cursor, x: tf.Tensor2D): tf.Tensor2D {
  let h = x
  for (let i = 0; i < spec.hidden.length; i++) h = denseLayer(h, p, spec.activation)
  return denseLayer(h, p)
}

function cnnLogits(spec: CnnSpec, p: Cursor, x: tf.Tensor4D): tf.Tensor2D {
  let h = x
  for (const stage of cnnStages(spec)) {
    const layer = stage.layer
    if (layer.type === 'conv2d') {
      const w = p.next<tf.Tensor4D>()
      const b = p.next<tf.Tensor1D>()
      h = activate(
        tf.add(conv2d(h, w, layer.stride, layer.padding), b),
        spec.activation,
      ) as tf.Tensor4D
    } else {
      h = maxPool(h, layer.size)
    }
  }
  let flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D
  for (let i = 0; i < spec.dense.length; i++) flat = denseLayer(flat, p, spec.activation)
  return denseLayer(flat, p)
}

/**
 * Embedding lookup as oneHot(ids) · table. A gather would be cheaper forward, but its gradient
 * needs UnsortedSegmentSum, which the wasm backend lacks; a matmul trains on every backend with
 * native kernels only, and byte/char vocabularies keep the one-hot matrix small.
 */
export function embed(table: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor3D {
  const [b, t] = ids.shape
  const [vocab, dim] = table.shape
  const oneHot = tf.cast(
    tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, vocab),
    'float32',
  ) as tf.Tensor2D
  return tf.reshape(tf.matMul(oneHot, table), [b, t, dim])
}

export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gain), bias)
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, a large negative number above it. */
export function causalMask(t: number): tf.Tensor2D {
  return tf.tidy(
    () => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9) as tf.Tensor2D,
  )
}

export function causalSelfAttention(
  x: tf.Tensor3D,
  p: Cursor,
  heads: number,
  mask: tf.Tensor2D,
): tf.Tensor3D {
  const [b, t, d] = x.shape
  const dh = d / heads
  const wqkv = p.next<tf.Tensor2D>()
  const bqkv = p.next<tf.Tensor1D>()
  const qkv = tf.add(tf.matMul(tf.reshape(x, [b * t, d]), wqkv), bqkv)
  // [b*t, 3d] → [3, b, heads, t, dh]
  const split = tf.transpose(tf.reshape(qkv, [b, t, 3, heads, dh]), [2, 0, 3, 1, 4])
  const [q, k, v] = tf.unstack(split, 0) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask)
  const attended = tf.matMul(tf.softmax(scores), v) // [b, heads, t, dh]
  const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [b * t, d])
  const wo = p.next<tf.Tensor2D>()
  const bo = p.next<tf.Tensor1D>()
  return tf.reshape(tf.add(tf.matMul(merged, wo), bo), [b, t, d])
}

function transformerLogits(
  spec: TransformerSpec,
  p: Cursor,
  tokens: tf.Tensor2D,
  mask: tf.Tensor2D,
): tf.Tensor2D {
  const [b, t] = tokens.shape
  const d = spec.dModel
  const tokEmb = p.next<tf.Tensor2D>()
  const posEmb = p.next<tf.Tensor2D>()
  let x = tf.add(embed(tokEmb, tokens), tf.slice(posEmb, [0, 0], [t, d])) as tf.Tensor3D
  for (let l = 0; l < spec.layers; l++) {
    const a = layerNorm(x, p.next(), p.next()) as tf.Tensor3D
    x = tf.add(x, causalSelfAttention(a, p, spec.heads, mask))
    const m = layerNorm(x, p.next(), p.next())
    const hidden = denseLayer(tf.reshape(m, [b * t, d]), p, 'gelu')
    x = tf.add(x, tf.reshape(denseLayer(hidden, p), [b, t, d]))
  }
  const out = layerNorm(x, p.next(), p.next())
  return denseLayer(tf.reshape(out, [b * t, d]), p)
}

/** Mean softmax cross-entropy of integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const logProbs = tf.logSoftmax(logits)
  const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels, logits.shape[1])), -1)
  return tf.neg(tf.mean(picked)) as tf.Scalar
}

/** Softmax cross-entropy of each row of logits: [rows]. */
export function rowCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const logProbs = tf.logSoftmax(logits)
  return tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(labels, logits.shape[1])), -1)) as tf.Tensor1D
}

/** A batch as tensors: classifier features and labels, or LM inputs and next-token targets. */
export interface BatchTensors {
  x: tf.Tensor
  y: tf.Tensor1D
}

export function batchTensors(spec: ModelSpec, batch: Batch): BatchTensors {
  return tf.tidy(() => {
    if (batch.kind === 'tokens') {
      if (spec.type !== 'transformer')
        throw new Error(`a ${spec.type} model cannot train on token batches`)
      const rows = tf.tensor2d(batch.tokens, [batch.batch, batch.seqLen + 1], 'int32')
      const x = tf.slice(rows, [0, 0], [batch.batch, batch.seqLen])
      const y = tf.reshape(tf.slice(rows, [0, 1], [batch.batch, batch.seqLen]), [-1]) as tf.Tensor1D
      return { x, y }
    }
    if (spec.type === 'transformer') throw new Error('a transformer cannot train on tensor batches')
    const shape =
      spec.type === 'cnn'
        ? [batch.batch, spec.input.height, spec.input.width, spec.input.channels]
        : [batch.batch, spec.inputSize]
    return { x: tf.tensor(batch.x, shape, 'float32'), y: tf.tensor1d(batch.y, 'int32') }
  })
}

/**
 * Builds the loss function of a spec. Constants such as the causal mask are made once and reused
 * across steps; call dispose() when done.
 */
export function lossFunction(spec: ModelSpec): {
  loss(params: readonly tf.Tensor[], batch: BatchTensors): tf.Scalar
  /**
   * The loss of each record of the batch: [records]. For a transformer a record is one window, its
   * loss the mean over its positions (the windows, not the tokens, are the independent samples).
   */
  recordLosses(params: readonly tf.Tensor[], batch: BatchTensors): tf.Tensor1D
  dispose(): void
} {
  const mask = spec.type === 'transformer' ? causalMask(spec.context) : undefined
  const logits = (params: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor2D => {
    const p = new Cursor(params)
    switch (spec.type) {
      case 'mlp':
        return mlpLogits(spec, p, x as tf.Tensor2D)
      case 'cnn':
        return cnnLogits(spec, p, x as tf.Tensor4D)
      case 'transformer': {
        const t = x.shape[1] as number
        const m =
          t === spec.context ? (mask as tf.Tensor2D) : tf.slice(mask as tf.Tensor2D, [0, 0], [t, t])
        return transformerLogits(spec, p, x as tf.Tensor2D, m)
      }
    }
  }
  return {
    loss(params, { x, y }) {
      return crossEntropy(logits(params, x), y)
    },
    recordLosses(params, { x, y }) {
      const rows = rowCrossEntropy(logits(params, x), y)
      if (spec.type !== 'transformer') return rows
      return tf.mean(tf.reshape(rows, [x.shape[0] as number, -1]), 1) as tf.Tensor1D
    },
    dispose() {
      mask?.dispose()
    },
  }
}

/**
 * Next-token logits of a transformer at the LAST position of each row: [batch, vocab]. For
 * generation (sample text shown to contributors), not training.
 */
export function lastTokenLogits(
  spec: TransformerSpec,
  params: readonly tf.Tensor[],
  tokens: tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t] = tokens.shape
    const mask = causalMask(t)
    const logits = transformerLogits(spec, new Cursor(params), tokens, mask)
    const rows = tf.reshape(logits, [b, t, spec.vocab])
    return tf.reshape(tf.slice(rows, [0, t - 1, 0], [b, 1, spec.vocab]), [b, spec.vocab])
  })
}

/**
 * Class logits of an image (or feature) classifier: [batch, classes]. For "try it" predictions on
 * a checkpoint, not training. `x` is [batch, inputSize] for an MLP, [batch, H, W, C] for a CNN.
 */
export function classLogits(
  spec: MlpSpec | CnnSpec,
  params: readonly tf.Tensor[],
  x: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() =>
    spec.type === 'mlp'
      ? mlpLogits(spec, new Cursor(params), x as tf.Tensor2D)
      : cnnLogits(spec, new Cursor(params), x as tf.Tensor4D),
  )
}
