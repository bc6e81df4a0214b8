/**
 * An in-process DiLoCo run through the host's own round code: every contributor trains with the
 * engine's inner loop (real TF.js training, runInnerLoop), its Δ is int8-encoded with the codec the
 * participant uses, and each round is closed by computeRound (core/host/round.ts) — the same
 * screening, harmful check, aggregation, outer step, quality and credits the host writes and
 * `tandem verify` replays. What it leaves out is the network (offers, downloads, acks): the
 * experiments that need the network use real processes (test/support/host-process.ts).
 *
 * Contributors can misbehave (`Behaviour`); omniscient attackers see this round's honest updates.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Batch, TensorBatch, TokenBatch } from '../../../core/engine/batch.js'
import { aggregate } from '../../../core/aggregate/aggregate.js'
import { decode, encode } from '../../../core/engine/compress/codec.js'
import { densify, quantizeInt8 } from '../../../core/engine/compress/quantize.js'
import { nesterovOuterStep } from '../../../core/engine/optim/nesterov.js'
import { evaluateLoss, runInnerLoop } from '../../../core/engine/inner-loop.js'
import { initialWeights, seededRandom } from '../../../core/engine/model/init.js'
import type { ModelSpec } from '../../../core/engine/spec/schema.js'
import { computeRound, type RoundCandidate } from '../../../core/host/round.js'
import type { Contribution, Receipt } from '../../../core/ledger/entries.js'
import type { Manifest } from '../../../core/ledger/manifest.js'
import { replayStanding } from '../../../core/ledger/standing.js'

export type Behaviour =
  | 'honest'
  /** Its own honest Δ × −10. */
  | 'sign-flip'
  /** Gaussian noise of 9× the honest median norm (just under the 10× norm screen). */
  | 'noise'
  /** A little is enough (Baruch et al. 2019): mean − z·std of the honest updates, published z. */
  | 'alie'
  /** Inner-product manipulation (Xie et al. 2020): −ε × the honest mean, ε = 0.5. */
  | 'ipm'
  /** Trains honestly on flipped labels (y → classes − 1 − y). */
  | 'label-flip'
  /** Free-rider: an all-zero update. */
  | 'zeros'
  /** Free-rider: Gaussian noise of 1/1000 of the honest median norm. */
  | 'tiny'
  /** Re-sends the bytes of an honest update of the previous round (round 0: zeros). */
  | 'replay'
  /** Offers the bytes of an honest update of this round (after it). */
  | 'copy'
  /**
   * A copier that hides: an honest update of this round (decoded), scaled by 1.02 and with
   * Gaussian noise of PERTURBATION × its norm added, so its hash differs (cosine ≈ 0.995).
   */
  | 'perturbed-copy'

export interface SimTask {
  name: string
  spec: ModelSpec
  classes: number
  /** Contributor k's batch for one inner step (deterministic in k, round, step). */
  batch(k: number, round: number, step: number, batchSize: number, flip: boolean): Batch
  /** The host's validation batch (scoring). */
  validation: Batch
  /** Held-out records for the reported loss (not the validation batch's). */
  heldOut: Batch
}

export interface SimRound {
  round: number
  /** Validation loss of checkpoint r and of r+1 (computeRound's). */
  lossBefore: number
  lossAfter: number
  heldOutLoss: number
  contributions: Contribution[]
  /** Per honest contributor, its inner-step losses. */
  stepLosses: number[][]
}

export interface SimResult {
  rounds: SimRound[]
  finalHeldOut: number
  behaviours: Behaviour[]
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const hex = (i: number) => i.toString(16).padStart(2, '0').repeat(32)

function gaussian(n: number, sigma: number, seed: number): Float32Array {
  const rand = seededRandom(seed)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12)
    out[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
  }
  return out
}

function l2(x: Float32Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return Math.sqrt(s)
}

/** ALIE's z for n workers of which f are Byzantine (Baruch et al. 2019, §3). */
export function alieZ(n: number, f: number): number {
  const s = Math.floor(n / 2) + 1 - f
  const p = (n - s) / n
  // Inverse standard normal CDF (Acklam's rational approximation is plenty here).
  return inverseNormal(p)
}

function inverseNormal(p: number): number {
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ]
  const b = [
    -54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857,
  ]
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373,
    4.37466414146497, 2.93816398269878,
  ]
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742]
  const lo = 0.02425
  if (p <= 0) return -Infinity
  if (p >= 1) return Infinity
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    )
  }
  if (p > 1 - lo) return -inverseNormal(1 - p)
  const q = p - 0.5
  const r = q * q
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  )
}

function meanStd(updates: Float32Array[]): { mean: Float32Array; std: Float32Array } {
  const n = updates[0]!.length
  const mean = new Float64Array(n)
  const sq = new Float64Array(n)
  for (const d of updates)
    for (let i = 0; i < n; i++) {
      mean[i]! += d[i]! / updates.length
      sq[i]! += (d[i]! * d[i]!) / updates.length
    }
  return {
    mean: Float32Array.from(mean),
    std: Float32Array.from(mean, (m, i) => Math.sqrt(Math.max(0, sq[i]! - m * m))),
  }
}

export interface SimOptions {
  manifest: Manifest
  task: SimTask
  /** One per contributor, in arrival order (attackers after the honest ones they copy). */
  behaviours: Behaviour[]
  rounds: number
  /** Contributors whose seeds differ per run (the experiment's seed). */
  seed?: number
  /**
   * No host defences: the plain mean of every update, no screening, no scores (contributions
   * are left empty). The baseline that shows an attack bites.
   */
  undefended?: boolean
  onRound?: (r: SimRound) => void
  /** Every round's decoded updates, in arrival order, before the round is closed (measurements). */
  onUpdates?: (round: number, deltas: Float32Array[]) => void
}

/** Relative noise of a 'perturbed-copy' (its norm over the copied update's). */
export const PERTURBATION = 0.1

/** Runs the rounds; returns per-round receipts and losses. */
export async function simulate(opts: SimOptions): Promise<SimResult> {
  const { manifest: m, task, behaviours } = opts
  const H = m.recipe.innerSteps
  const B = m.recipe.batchSize
  const seed = opts.seed ?? 0
  let weights = initialWeights(m.model, m.seed)
  let momentum: Float32Array | null = null
  const receipts: Receipt[] = []
  const rounds: SimRound[] = []
  let previousHonest: Uint8Array[] = []
  const honestIdx = behaviours.flatMap((b, k) => (b === 'honest' ? [k] : []))
  const f = behaviours.length - honestIdx.length
  const z = alieZ(behaviours.length, f)

  for (let r = 0; r < opts.rounds; r++) {
    const trained = new Map<number, { delta: Float32Array; losses: number[] }>()
    const train = async (k: number, flip: boolean) => {
      const inner = m.recipe.inner
      const { delta, losses } = await runInnerLoop(
        {
          spec: m.model,
          weights,
          steps: H,
          schedule: inner,
          adamw: inner,
          stepOffset: r * H,
          ...(inner.rewarmupSteps ? { rewarmupSteps: inner.rewarmupSteps } : {}),
        },
        { nextBatch: async (s) => task.batch(k + 1000 * seed, r, s, B, flip) },
      )
      return { delta, losses }
    }
    for (const k of honestIdx) trained.set(k, await train(k, false))
    const honest = honestIdx.map((k) => trained.get(k)!.delta)
    const norms = honest.map(l2).sort((a, b) => a - b)
    const medNorm = norms[norms.length >> 1] ?? 0
    const n = weights.length
    const stats = honest.length > 1 ? meanStd(honest) : null
    const encoded: Uint8Array[] = []
    for (const [k, b] of behaviours.entries()) {
      let bytes: Uint8Array
      const enc = (d: Float32Array) => encode(quantizeInt8(d))
      switch (b) {
        case 'honest':
          bytes = enc(trained.get(k)!.delta)
          break
        case 'sign-flip':
          bytes = enc((await train(k, false)).delta.map((x) => -10 * x))
          break
        case 'label-flip':
          bytes = enc((await train(k, true)).delta)
          break
        case 'noise':
          bytes = enc(gaussian(n, (9 * medNorm) / Math.sqrt(n), 77 + 1000 * r + k))
          break
        case 'alie':
          // Each attacker a hair apart, so their bytes are not duplicates of each other.
          bytes = enc(stats!.mean.map((mu, i) => mu - (z + 1e-3 * k) * stats!.std[i]!))
          break
        case 'ipm':
          bytes = enc(stats!.mean.map((mu) => -(0.5 + 1e-3 * k) * mu))
          break
        case 'zeros':
          bytes = enc(new Float32Array(n))
          break
        case 'tiny':
          bytes = enc(gaussian(n, medNorm / 1000 / Math.sqrt(n), 99 + 1000 * r + k))
          break
        case 'replay':
          bytes = previousHonest[k % Math.max(1, previousHonest.length)] ?? enc(new Float32Array(n))
          break
        case 'copy':
          bytes = encoded[honestIdx[k % honestIdx.length]!]!
          break
        case 'perturbed-copy': {
          const src = densify(decode(encoded[honestIdx[k % honestIdx.length]!]!))
          const noise = gaussian(n, (PERTURBATION * l2(src)) / Math.sqrt(n), 55 + 1000 * r + k)
          bytes = enc(src.map((x, i) => 1.02 * x + noise[i]!))
          break
        }
      }
      encoded.push(bytes)
    }
    previousHonest = honestIdx.map((k) => encoded[k]!)
    opts.onUpdates?.(
      r,
      encoded.map((e) => densify(decode(e))),
    )
    const candidates: RoundCandidate[] = encoded.map((e, k) => ({
      contributor: hex(k + 1),
      updateCore: hex(k + 101),
      updateIndex: r * 2,
      updateHash: sha(e),
      samples: H * B,
      encoded: e,
      receivedAt: 0,
      signatureValid: true,
    }))
    if (opts.undefended) {
      const all = encoded.map((e) => ({ update: densify(decode(e)), weight: 1 }))
      const agg = aggregate(all, { rule: 'mean' }).aggregate
      const next = nesterovOuterStep(weights, agg, momentum, m.recipe.outer)
      const lossBefore = await evaluateLoss(m.model, weights, task.validation)
      weights = next.weights
      momentum = next.momentum
      const round: SimRound = {
        round: r,
        lossBefore,
        lossAfter: await evaluateLoss(m.model, weights, task.validation),
        heldOutLoss: await evaluateLoss(m.model, weights, task.heldOut),
        contributions: [],
        stepLosses: honestIdx.map((k) => trained.get(k)!.losses),
      }
      rounds.push(round)
      opts.onRound?.(round)
      continue
    }
    const standing = replayStanding(m, receipts)
    const out = await computeRound({
      manifest: m,
      round: r,
      weights,
      momentum,
      candidates,
      seenBefore: new Set(receipts.flatMap((x) => x.contributions.map((c) => c.updateHash))),
      reputation: new Map([...standing].map(([who, s]) => [who, s.reputation])),
      validation: task.validation,
      deadline: 1,
      closedAt: r * 1000,
    })
    receipts.push({ v: 1, round: r, checkpointIn: '', checkpointOut: '', ...out.receipt })
    weights = out.weights
    momentum = out.momentum
    const round: SimRound = {
      round: r,
      lossBefore: out.lossBefore,
      lossAfter: out.lossAfter,
      heldOutLoss: await evaluateLoss(m.model, weights, task.heldOut),
      contributions: out.receipt.contributions,
      stepLosses: honestIdx.map((k) => trained.get(k)!.losses),
    }
    rounds.push(round)
    opts.onRound?.(round)
  }
  const finalHeldOut = rounds.at(-1)?.heldOutLoss ?? NaN
  return {
    rounds,
    finalHeldOut: Number.isFinite(finalHeldOut) ? finalHeldOut : Infinity,
    behaviours,
  }
}

// ---- Tasks ----------------------------------------------------------------------------------

/**
 * Where the shared data is (MNIST, tinyshakespeare): ../shared/data from the repository, or two
 * levels up from a worktree under a folder of worktrees.
 */
export const SHARED_DATA =
  [
    join(process.cwd(), '..', 'shared', 'data'),
    join(process.cwd(), '..', '..', 'shared', 'data'),
  ].find((d) => existsSync(d)) ?? join(process.cwd(), '..', 'shared', 'data')

export function haveMnist(dataDir = SHARED_DATA): boolean {
  return (
    existsSync(join(dataDir, 'mnist-t10k-images-idx3-ubyte.gz')) &&
    existsSync(join(dataDir, 'mnist-t10k-labels-idx1-ubyte.gz'))
  )
}

/**
 * MNIST's 10,000 test images, shuffled once (the file is ordered by writer population): the first
 * `train` split evenly among `contributors`, then `validation` records for the host's batch, the
 * rest held out.
 */
export function mnistTask(
  spec: ModelSpec,
  opts: { contributors: number; train: number; validation: number; dataDir?: string },
): SimTask {
  const dir = opts.dataDir ?? SHARED_DATA
  const img = gunzipSync(readFileSync(join(dir, 'mnist-t10k-images-idx3-ubyte.gz')))
  const lab = gunzipSync(readFileSync(join(dir, 'mnist-t10k-labels-idx1-ubyte.gz')))
  const count = img.readUInt32BE(4)
  const order = Array.from({ length: count }, (_, i) => i)
  const rand = seededRandom(42)
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const x = new Float32Array(count * 784)
  const y = new Int32Array(count)
  order.forEach((src, i) => {
    for (let f = 0; f < 784; f++) x[i * 784 + f] = img[16 + src * 784 + f]! / 255
    y[i] = lab[8 + src]!
  })
  const shape = spec.type === 'cnn' ? [28, 28, 1] : [784]
  const slice = (from: number, to: number): TensorBatch => ({
    kind: 'tensors',
    batch: to - from,
    shape,
    x: x.slice(from * 784, to * 784),
    y: y.slice(from, to),
  })
  const per = Math.floor(opts.train / opts.contributors)
  return {
    name: 'mnist',
    spec,
    classes: 10,
    validation: slice(opts.train, opts.train + opts.validation),
    heldOut: slice(opts.train + opts.validation, count),
    batch(k, round, step, batchSize, flip) {
      const part = k % opts.contributors
      const r = seededRandom(1_000_003 * k + 7919 * round + step + 1)
      const bx = new Float32Array(batchSize * 784)
      const by = new Int32Array(batchSize)
      for (let b = 0; b < batchSize; b++) {
        const i = part * per + Math.floor(r() * per)
        bx.set(x.subarray(i * 784, (i + 1) * 784), b * 784)
        by[b] = flip ? 9 - y[i]! : y[i]!
      }
      return { kind: 'tensors', batch: batchSize, shape, x: bx, y: by }
    },
  }
}

/**
 * A separable task that trains to a tiny loss, as a real classifier does once it converges:
 * `classes` Gaussian clusters in `features` dimensions (centres on a scaled simplex-like code,
 * spread `noise`), each record the cluster's centre plus noise. Most records end with a loss near
 * zero and a few near the boundaries carry the rest, which is the regime where a relative
 * tolerance on the validation loss turns into noise.
 */
export function clusterTask(
  spec: ModelSpec,
  opts: { features: number; classes: number; noise: number; validation: number; heldOut: number },
): SimTask {
  const centres = Array.from({ length: opts.classes }, (_, c) => {
    const r = seededRandom(500 + c)
    return Float32Array.from({ length: opts.features }, () => (r() < 0.5 ? -1 : 1))
  })
  const make = (count: number, seed: number, flip = false): TensorBatch => {
    const r = seededRandom(seed)
    const x = new Float32Array(count * opts.features)
    const y = new Int32Array(count)
    for (let b = 0; b < count; b++) {
      const c = Math.floor(r() * opts.classes)
      for (let f = 0; f < opts.features; f++) {
        const u = Math.max(r(), 1e-12)
        const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r())
        x[b * opts.features + f] = centres[c]![f]! + opts.noise * g
      }
      y[b] = flip ? opts.classes - 1 - c : c
    }
    return { kind: 'tensors', batch: count, shape: [opts.features], x, y }
  }
  return {
    name: 'clusters',
    spec,
    classes: opts.classes,
    validation: make(opts.validation, 1),
    heldOut: make(opts.heldOut, 2),
    batch: (k, round, step, batchSize, flip) =>
      make(batchSize, 1_000_003 * (k + 3) + 7919 * round + step + 11, flip),
  }
}

/**
 * A byte-level LM task on a text (tinyshakespeare when present): the first 90 % of the bytes
 * split evenly among `contributors`, windows of context + 1 bytes; validation and held-out windows
 * from the last 10 % (fixed positions).
 */
export function charTask(
  spec: ModelSpec,
  text: Uint8Array,
  opts: { contributors: number; validation: number; heldOut: number },
): SimTask {
  if (spec.type !== 'transformer') throw new Error('charTask needs a transformer')
  const row = spec.context + 1
  const split = Math.floor(text.length * 0.9)
  const per = Math.floor(split / opts.contributors)
  const windows = (count: number, pick: (b: number) => number): TokenBatch => {
    const tokens = new Int32Array(count * row)
    for (let b = 0; b < count; b++) {
      const at = pick(b)
      for (let t = 0; t < row; t++) tokens[b * row + t] = text[at + t]!
    }
    return { kind: 'tokens', batch: count, seqLen: spec.context, tokens }
  }
  const tail = text.length - split - row
  const fixed = (count: number, offset: number) =>
    windows(count, (b) => split + ((offset + b * 7919) % tail))
  return {
    name: 'chars',
    spec,
    classes: spec.vocab,
    validation: fixed(opts.validation, 0),
    heldOut: fixed(opts.heldOut, 13),
    batch(k, round, step, batchSize) {
      const part = k % opts.contributors
      const r = seededRandom(1_000_003 * k + 7919 * round + step + 1)
      return windows(batchSize, () => part * per + Math.floor(r() * (per - row)))
    },
  }
}
