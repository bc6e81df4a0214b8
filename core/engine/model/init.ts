/**
 * Deterministic initial weights. The generator is ours (not the backend's), so the same seed gives
 * the same bytes on every backend and machine; a project's round-0 checkpoint is reproducible.
 */
import type { ModelSpec } from '../spec/schema.js'
import { paramLayout, sizeOf, type ParamInfo } from './layout.js'

/** SplitMix32-style generator: small, fast, and good enough for initialisation and sampling. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    z = (z ^ (z >>> 16)) >>> 0
    return z / 4294967296
  }
}

export function initialWeights(spec: ModelSpec, seed: number): Float32Array {
  const layout = paramLayout(spec)
  const total = layout.reduce((n, p) => n + sizeOf(p.shape), 0)
  const out = new Float32Array(total)
  const rand = seededRandom(seed)
  let offset = 0
  for (const p of layout) {
    fill(out.subarray(offset, offset + sizeOf(p.shape)), p, rand)
    offset += sizeOf(p.shape)
  }
  return out
}

function fill(target: Float32Array, p: ParamInfo, rand: () => number): void {
  if (p.init === 'zeros') return
  if (p.init === 'ones') {
    target.fill(1)
    return
  }
  // Box-Muller, truncated at 2 std like most frameworks' default initialisers.
  for (let i = 0; i < target.length; i++) {
    let z: number
    do {
      const u = 1 - rand()
      z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
    } while (Math.abs(z) > 2)
    target[i] = z * p.std
  }
}
