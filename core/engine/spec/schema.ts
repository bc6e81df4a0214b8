/**
 * Declarative model specs. A spec arrives from a peer (inside a project manifest), so it is data and
 * nothing else: a closed set of model families with bounded sizes, validated before anything is
 * built. There is no way for a spec to name code to run.
 */
import { z } from 'zod'

/** Hard ceilings, whatever a spec says. */
export const SPEC_LIMITS = {
  /** Bytes of JSON text accepted before parsing. */
  maxJsonBytes: 16 * 1024,
  maxParams: 200_000_000,
  maxDim: 65_536,
  maxDepth: 48,
} as const

const Dim = z.number().int().positive().max(SPEC_LIMITS.maxDim)

export const Activation = z.enum(['relu', 'gelu', 'tanh'])
export type Activation = z.infer<typeof Activation>

export const MlpSpec = z
  .object({
    type: z.literal('mlp'),
    /** Features per sample (a flattened input). */
    inputSize: Dim,
    hidden: z.array(Dim).max(SPEC_LIMITS.maxDepth),
    classes: Dim.min(2),
    activation: Activation.default('relu'),
  })
  .strict()

export const ConvLayer = z
  .object({
    type: z.literal('conv2d'),
    filters: Dim,
    kernel: z.number().int().min(1).max(11),
    stride: z.number().int().min(1).max(4).default(1),
    /** 'same' keeps height and width (at stride 1); 'valid' shrinks them by kernel - 1. */
    padding: z.enum(['same', 'valid']).default('same'),
  })
  .strict()

export const PoolLayer = z
  .object({
    type: z.literal('maxpool'),
    size: z.number().int().min(2).max(4).default(2),
  })
  .strict()

export const CnnLayer = z.discriminatedUnion('type', [ConvLayer, PoolLayer])
export type CnnLayer = z.infer<typeof CnnLayer>

export const CnnSpec = z
  .object({
    type: z.literal('cnn'),
    input: z
      .object({ height: Dim, width: Dim, channels: z.number().int().min(1).max(16) })
      .strict(),
    layers: z.array(CnnLayer).min(1).max(SPEC_LIMITS.maxDepth),
    /** Dense layers after flattening, before the classifier. */
    dense: z.array(Dim).max(8).default([]),
    classes: Dim.min(2),
    activation: Activation.default('relu'),
  })
  .strict()

export const TransformerSpec = z
  .object({
    type: z.literal('transformer'),
    /** Token ids are in [0, vocab): 256 for byte-level, the vocabulary size for char-level. */
    vocab: z.number().int().min(2).max(SPEC_LIMITS.maxDim),
    /** Context length in tokens. */
    context: z.number().int().min(2).max(4096),
    dModel: z.number().int().min(4).max(8192),
    heads: z.number().int().min(1).max(64),
    layers: z.number().int().min(1).max(SPEC_LIMITS.maxDepth),
    /** Hidden width of each block's MLP as a multiple of dModel. */
    mlpRatio: z.number().int().min(1).max(8).default(4),
  })
  .strict()
  .refine((t) => t.dModel % t.heads === 0, {
    message: 'dModel must be divisible by heads',
    path: ['heads'],
  })

export const ModelSpec = z.discriminatedUnion('type', [MlpSpec, CnnSpec, TransformerSpec])

export type MlpSpec = z.infer<typeof MlpSpec>
export type CnnSpec = z.infer<typeof CnnSpec>
export type TransformerSpec = z.infer<typeof TransformerSpec>
export type ModelSpec = z.infer<typeof ModelSpec>
export type ModelSpecInput = z.input<typeof ModelSpec>
