/**
 * Text generation from a transformer LM's flat weights: what the UI shows contributors so they see
 * what the model they help train has learned. Autoregressive sampling with temperature, seeded so
 * the same checkpoint and seed give the same text. Runs on whatever tfjs backend is active; one
 * forward pass per token over at most `context` tokens, fine for a few hundred tokens.
 */
import { TandemError } from '../api/errors.js'
import * as tf from './tf.js'
import { weightsToVariables } from './inner-loop.js'
import { lastTokenLogits } from './model/forward.js'
import type { ModelSpec } from './spec/schema.js'

export interface SampleOptions {
  /** Tokens to continue from; may be empty (generation then starts from token 0). */
  prompt: readonly number[]
  length: number
  /** 0 = greedy. Default 0.8. */
  temperature?: number
  seed?: number
}

/** mulberry32: tiny seeded generator, enough to draw tokens reproducibly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws an index from logits / temperature (softmax), or the argmax when temperature is 0. */
export function drawToken(logits: Float32Array, temperature: number, rand: () => number): number {
  let best = 0
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i
  if (temperature <= 0) return best
  const max = logits[best]!
  let total = 0
  const p = new Float64Array(logits.length)
  for (let i = 0; i < logits.length; i++) total += p[i] = Math.exp((logits[i]! - max) / temperature)
  let r = rand() * total
  for (let i = 0; i < p.length; i++) if ((r -= p[i]!) <= 0) return i
  return best
}

export async function sampleTokens(
  spec: ModelSpec,
  weights: Float32Array,
  opts: SampleOptions,
): Promise<number[]> {
  if (spec.type !== 'transformer')
    throw new TandemError('BAD_ARGUMENT', 'only language-model projects generate text')
  if (!Number.isInteger(opts.length) || opts.length < 1 || opts.length > 4096)
    throw new TandemError('BAD_ARGUMENT', 'length must be an integer from 1 to 4096')
  if (opts.prompt.some((t) => !Number.isInteger(t) || t < 0 || t >= spec.vocab))
    throw new TandemError('BAD_ARGUMENT', `prompt tokens must be integers in [0, ${spec.vocab})`)
  const vars = weightsToVariables(spec, weights)
  const rand = seeded(opts.seed ?? 1)
  const temperature = opts.temperature ?? 0.8
  const tokens = opts.prompt.length ? [...opts.prompt] : [0]
  const out: number[] = []
  try {
    for (let i = 0; i < opts.length; i++) {
      const window = tokens.slice(-spec.context)
      const logits = tf.tidy(() =>
        lastTokenLogits(spec, vars, tf.tensor2d(window, [1, window.length], 'int32')),
      )
      const values = (await logits.data()) as Float32Array
      logits.dispose()
      const next = drawToken(values, temperature, rand)
      tokens.push(next)
      out.push(next)
    }
    return out
  } finally {
    tf.dispose(vars)
  }
}
