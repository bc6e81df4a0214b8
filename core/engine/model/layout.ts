/**
 * The parameter layout of a spec: every trainable tensor's name, shape and initialisation, in the
 * fixed order in which they are concatenated into the flat Float32 weight buffer that checkpoints,
 * updates and the outer optimizer all share. Model code and cost accounting both derive from this,
 * so they cannot disagree.
 */
import { TandemError } from '../../api/errors.js'
import type { CnnSpec, MlpSpec, ModelSpec, TransformerSpec } from '../spec/schema.js'

export interface ParamInfo {
  name: string
  shape: number[]
  /** 'normal' draws N(0, std²) from the seeded generator; the others are constants. */
  init: 'normal' | 'zeros' | 'ones'
  std: number
  /** AdamW weight decay applies to matrices and embeddings, not to biases or norm gains. */
  decay: boolean
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

function dense(
  name: string,
  inDim: number,
  outDim: number,
  std = Math.sqrt(2 / inDim),
): ParamInfo[] {
  return [
    { name: `${name}.w`, shape: [inDim, outDim], init: 'normal', std, decay: true },
    { name: `${name}.b`, shape: [outDim], init: 'zeros', std: 0, decay: false },
  ]
}

function norm(name: string, dim: number): ParamInfo[] {
  return [
    { name: `${name}.g`, shape: [dim], init: 'ones', std: 0, decay: false },
    { name: `${name}.b`, shape: [dim], init: 'zeros', std: 0, decay: false },
  ]
}

function mlpLayout(spec: MlpSpec): ParamInfo[] {
  const dims = [spec.inputSize, ...spec.hidden, spec.classes]
  return dims.slice(1).flatMap((out, i) => dense(`dense${i}`, dims[i] as number, out))
}

export interface CnnStage {
  layer: CnnSpec['layers'][number]
  inH: number
  inW: number
  inC: number
  outH: number
  outW: number
  outC: number
}

/** Spatial shapes through the conv/pool stack; rejects a stack that shrinks the image to nothing. */
export function cnnStages(spec: CnnSpec): CnnStage[] {
  let h = spec.input.height
  let w = spec.input.width
  let c = spec.input.channels
  return spec.layers.map((layer, i) => {
    const inH = h
    const inW = w
    const inC = c
    if (layer.type === 'conv2d') {
      const span = layer.padding === 'same' ? 1 : layer.kernel
      h = Math.floor((h - span) / layer.stride) + 1
      w = Math.floor((w - span) / layer.stride) + 1
      c = layer.filters
    } else {
      h = Math.floor(h / layer.size)
      w = Math.floor(w / layer.size)
    }
    if (h < 1 || w < 1)
      throw new TandemError('SPEC_INVALID', `cnn layer ${i} shrinks the image to nothing`)
    return { layer, inH, inW, inC, outH: h, outW: w, outC: c }
  })
}

function cnnLayout(spec: CnnSpec): ParamInfo[] {
  const params: ParamInfo[] = []
  const stages = cnnStages(spec)
  stages.forEach((s, i) => {
    if (s.layer.type !== 'conv2d') return
    const k = s.layer.kernel
    params.push(
      {
        name: `conv${i}.w`,
        shape: [k, k, s.inC, s.outC],
        init: 'normal',
        std: Math.sqrt(2 / (k * k * s.inC)),
        decay: true,
      },
      { name: `conv${i}.b`, shape: [s.outC], init: 'zeros', std: 0, decay: false },
    )
  })
  const last = stages.at(-1) as CnnStage
  const dims = [last.outH * last.outW * last.outC, ...spec.dense, spec.classes]
  dims.slice(1).forEach((out, i) => params.push(...dense(`dense${i}`, dims[i] as number, out)))
  return params
}

function transformerLayout(spec: TransformerSpec): ParamInfo[] {
  const d = spec.dModel
  const hidden = d * spec.mlpRatio
  // GPT-2 style: small embeddings, residual projections scaled down by depth.
  const std = 0.02
  const residualStd = 0.02 / Math.sqrt(2 * spec.layers)
  const params: ParamInfo[] = [
    { name: 'tok.emb', shape: [spec.vocab, d], init: 'normal', std, decay: true },
    { name: 'pos.emb', shape: [spec.context, d], init: 'normal', std, decay: true },
  ]
  for (let l = 0; l < spec.layers; l++) {
    params.push(
      ...norm(`block${l}.ln1`, d),
      ...dense(`block${l}.qkv`, d, 3 * d, std),
      ...dense(`block${l}.proj`, d, d, residualStd),
      ...norm(`block${l}.ln2`, d),
      ...dense(`block${l}.fc`, d, hidden, std),
      ...dense(`block${l}.out`, hidden, d, residualStd),
    )
  }
  params.push(...norm('final.ln', d), ...dense('head', d, spec.vocab, std))
  return params
}

export function paramLayout(spec: ModelSpec): ParamInfo[] {
  switch (spec.type) {
    case 'mlp':
      return mlpLayout(spec)
    case 'cnn':
      return cnnLayout(spec)
    case 'transformer':
      return transformerLayout(spec)
  }
}
