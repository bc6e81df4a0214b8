/**
 * What a spec costs: parameters, training FLOPs per sample and a memory estimate. Credits are
 * computed from FLOPs per sample, so this is part of the ledger's arithmetic: change it only with a
 * new spec version.
 */
import { cnnStages, paramLayout, sizeOf } from '../model/layout.js'
import type { ModelSpec } from './schema.js'

export function countParams(spec: ModelSpec): number {
  return paramLayout(spec).reduce((n, p) => n + sizeOf(p.shape), 0)
}

/**
 * Multiply-accumulates of one forward pass for one sample. Training costs three forward passes
 * (forward, gradient w.r.t. activations, gradient w.r.t. weights), two FLOPs per MAC: 6 × MACs.
 * Element-wise work (activations, norms, softmax, the optimizer) is left out, as is customary.
 */
export function forwardMacsPerSample(spec: ModelSpec): number {
  switch (spec.type) {
    case 'mlp': {
      const dims = [spec.inputSize, ...spec.hidden, spec.classes]
      return dims.slice(1).reduce((n, out, i) => n + (dims[i] as number) * out, 0)
    }
    case 'cnn': {
      let macs = 0
      const stages = cnnStages(spec)
      for (const s of stages) {
        if (s.layer.type === 'conv2d')
          macs += s.outH * s.outW * s.layer.kernel * s.layer.kernel * s.inC * s.outC
      }
      const last = stages[stages.length - 1]
      const dims = [last ? last.outH * last.outW * last.outC : 0, ...spec.dense, spec.classes]
      return macs + dims.slice(1).reduce((n, out, i) => n + (dims[i] as number) * out, 0)
    }
    case 'transformer': {
      // A sample is one window of `context` tokens. Per token: every weight matrix once (the token
      // embedding is a lookup, not a matmul), plus attention scores and the weighted sum over the
      // full context (we compute the whole matrix and mask it).
      const d = spec.dModel
      const perLayer = d * 3 * d + d * d + 2 * d * d * spec.mlpRatio + 2 * spec.context * d
      return spec.context * (spec.layers * perLayer + d * spec.vocab)
    }
  }
}

export function trainFlopsPerSample(spec: ModelSpec): number {
  return 6 * forwardMacsPerSample(spec)
}

/** Floats of activations kept for the backward pass, per sample (a rough upper bound). */
function activationFloatsPerSample(spec: ModelSpec): number {
  switch (spec.type) {
    case 'mlp':
      return 2 * (spec.inputSize + spec.hidden.reduce((a, b) => a + b, 0) + spec.classes)
    case 'cnn':
      return (
        3 * cnnStages(spec).reduce((n, s) => n + s.outH * s.outW * s.outC, 0) + 2 * spec.classes
      )
    case 'transformer': {
      const d = spec.dModel
      const t = spec.context
      const perLayer = t * d * (10 + 2 * spec.mlpRatio) + 3 * spec.heads * t * t
      return spec.layers * perLayer + 3 * t * spec.vocab
    }
  }
}

export interface MemoryEstimate {
  params: number
  /** Weights, gradients, AdamW moments, the global copy and the error-feedback residual. */
  stateBytes: number
  activationBytes: number
  totalBytes: number
}

const RUNTIME_OVERHEAD_BYTES = 96 * 1024 * 1024

export function estimateMemory(spec: ModelSpec, batch: number): MemoryEstimate {
  const params = countParams(spec)
  const stateBytes = params * 4 * 6
  const activationBytes = activationFloatsPerSample(spec) * batch * 4
  return {
    params,
    stateBytes,
    activationBytes,
    totalBytes: stateBytes + activationBytes + RUNTIME_OVERHEAD_BYTES,
  }
}
