/**
 * What a job needs on a GPU, checked against the device before the first step: a job that does
 * not fit is refused with ENGINE_OUT_OF_MEMORY and the numbers, instead of failing (or, on WebGPU,
 * silently computing garbage) somewhere inside a step. WebGPU reports no memory size; it does
 * report the largest buffer a device can create and bind, which one tensor must fit, and the node
 * may set a total budget.
 */
import { TandemError } from '../../api/errors.js'
import { cnnStages, paramLayout, sizeOf } from '../model/layout.js'
import { estimateMemory } from './cost.js'
import type { ModelSpec } from './schema.js'

export interface GpuMemoryEstimate {
  /** Weights, gradients and the two AdamW moments, all on the device. */
  stateBytes: number
  activationBytes: number
  totalBytes: number
  /** The largest single tensor: one GPU buffer. */
  largestTensorBytes: number
}

export interface GpuMemoryLimits {
  maxBufferSize: number
  maxStorageBufferBindingSize: number
  /** A total budget, when one is known or set. */
  budgetBytes?: number
}

/** Floats in the largest activation tensor of one batch (forward or its gradient). */
function largestActivation(spec: ModelSpec, batch: number): number {
  switch (spec.type) {
    case 'mlp':
      return batch * Math.max(spec.inputSize, ...spec.hidden, spec.classes)
    case 'cnn': {
      const { height, width, channels } = spec.input
      const stages = cnnStages(spec).map((s) => s.outH * s.outW * s.outC)
      return batch * Math.max(height * width * channels, ...stages, ...spec.dense, spec.classes)
    }
    case 'transformer': {
      const t = spec.context
      const d = spec.dModel
      return batch * Math.max(spec.heads * t * t, t * spec.vocab, t * d * spec.mlpRatio, t * 3 * d)
    }
  }
}

export function estimateGpuMemory(spec: ModelSpec, batch: number): GpuMemoryEstimate {
  const host = estimateMemory(spec, batch)
  const stateBytes = host.params * 4 * 4
  const largestParam = Math.max(...paramLayout(spec).map((p) => sizeOf(p.shape)))
  return {
    stateBytes,
    activationBytes: host.activationBytes,
    totalBytes: stateBytes + host.activationBytes,
    largestTensorBytes: 4 * Math.max(largestParam, largestActivation(spec, batch)),
  }
}

/** Bytes as MB (KB below one MB), for messages. */
const mb = (bytes: number) =>
  bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`

/** Throws ENGINE_OUT_OF_MEMORY, with the numbers, when the job cannot fit on the device. */
export function checkGpuMemory(
  spec: ModelSpec,
  batch: number,
  device: string,
  limits: GpuMemoryLimits,
): GpuMemoryEstimate {
  const need = estimateGpuMemory(spec, batch)
  const perBuffer = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize)
  if (need.largestTensorBytes > perBuffer) {
    throw new TandemError(
      'ENGINE_OUT_OF_MEMORY',
      `At batch ${batch} this model's largest tensor needs ${mb(need.largestTensorBytes)} in one GPU buffer; ${device} allows ${mb(perBuffer)} per buffer (maxBufferSize ${limits.maxBufferSize}, maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize})`,
    )
  }
  if (limits.budgetBytes !== undefined && need.totalBytes > limits.budgetBytes) {
    throw new TandemError(
      'ENGINE_OUT_OF_MEMORY',
      `At batch ${batch} this model needs about ${mb(need.totalBytes)} of GPU memory (weights, gradients and optimizer state ${mb(need.stateBytes)}, activations ${mb(need.activationBytes)}); the GPU budget is ${mb(limits.budgetBytes)}`,
    )
  }
  return need
}
