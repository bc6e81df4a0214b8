/**
 * Training one round: the round's checkpoint from the ledger, this node's assigned shards, the
 * recipe's inner loop on the shared engine, then the Δ compressed with error feedback and published
 * to this node's update core. The caller offers what comes back; everything here comes from the
 * ledger and the manifest, never from a host message. A Δ finished after the deadline is not
 * published (the host would only record it as late: docs/host.md, stragglers).
 * docs/node.md, "Participant".
 */
import { assignShards } from '../../data/assignment.js'
import type { Dataset } from '../../data/dataset.js'
import { DiskCap } from '../../data/disk-cap.js'
import { ShardSampler, type SamplerOptions } from '../../data/sampler.js'
import { ErrorFeedback } from '../../engine/compress/error-feedback.js'
import type { TrainingEngine } from '../../engine/engine.js'
import type { InnerJob, StepInfo } from '../../engine/inner-loop.js'
import { roundSamples, type Manifest } from '../../ledger/manifest.js'
import { effectiveManifest } from '../../ledger/governance.js'
import type { LedgerState } from '../../ledger/reader.js'
import { publishUpdate } from '../../ledger/updates.js'
import type { UpdateOffer } from '../../wire/messages.js'
import { syncCheckpoint } from './checkpoint-sync.js'
import type { ParticipantFiles } from './files.js'
import type { RoundDeadlines } from './round-deadlines.js'
import { roundInputs } from './round-inputs.js'
import type { Running } from './running.js'
import type { Progress, SetState } from './types.js'

/** The round being trained. */
export interface Training {
  round: number
  step: number
  steps: number
  /** The round closed under us: the result is thrown away. */
  abandoned: boolean
  /**
   * One-step-delay overlap (overlap.ts): trained from checkpoint `round` − 1 before round `round`
   * opened. Absent: from checkpoint `round`, in the open round.
   */
  early?: boolean
}

/** What stays the same from round to round. */
export interface RoundContext {
  engine: TrainingEngine
  project: Buffer
  projectHex: string
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  files: ParticipantFiles | null
  ledgerTimeoutMs: number
  dataTimeoutMs: number
  diskCapBytes: (() => number) | undefined
  now: () => number
  deadlines: RoundDeadlines
  /** stop() was called. */
  stopped: () => boolean
  setState: SetState
  onProgress: (p: Progress) => void
  onWarning: (err: unknown) => void
}

export type RoundResult =
  /** The round closed under us, or stop(): nothing to offer. */
  | { kind: 'dropped' }
  /** Finished after the deadline: not published, the residual left as it was. */
  | { kind: 'late' }
  | {
      kind: 'published'
      /** Hex hash of the encoded Δ. */
      hash: string
      offer: UpdateOffer
      /** Saves the residual this update left (after the offer: a large one never delays it). */
      saveResidual: () => Promise<void>
      /** Puts the residual back as before this update (an early update never offered). */
      restoreResidual: () => void
    }

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Sampler shape options for a model: the features one record feeds it. */
export function samplerShape(manifest: Manifest): Pick<SamplerOptions, 'seqLen' | 'shape'> {
  const m = manifest.model
  if (m.type === 'transformer') return { seqLen: m.context }
  if (m.type === 'cnn') return { shape: [m.input.height, m.input.width, m.input.channels] }
  return { shape: [m.inputSize] }
}

/** How many shards hold one round's samples (at least one; at most every training shard). */
export function shardsNeeded(manifest: Manifest, dataset: Dataset): number {
  const h = dataset.header
  const total = dataset.trainingShards
  const perShard =
    h.layout.kind === 'tokens' && manifest.model.type === 'transformer'
      ? Math.floor(h.shardRecords / (manifest.model.context + 1))
      : h.shardRecords
  if (perShard < 1) return total
  return Math.max(1, Math.min(total, Math.ceil(roundSamples(manifest) / perShard)))
}

/** One DiskCap (it remembers which shards were used last), replaced when the budget changes. */
function diskCap(running: Running, bytes: number): DiskCap {
  if (!running.diskCap || running.diskCap.capBytes !== bytes)
    running.diskCap = new DiskCap(running.dataset, bytes)
  return running.diskCap
}

function innerJob(manifest: Manifest, round: number, weights: InnerJob['weights']): InnerJob {
  const { recipe } = manifest
  return {
    spec: manifest.model,
    weights,
    steps: recipe.innerSteps,
    schedule: {
      peakLr: recipe.inner.peakLr,
      warmupSteps: recipe.inner.warmupSteps,
      totalSteps: recipe.inner.totalSteps,
      minLrRatio: recipe.inner.minLrRatio,
    },
    adamw: {
      beta1: recipe.inner.beta1,
      beta2: recipe.inner.beta2,
      eps: recipe.inner.eps,
      weightDecay: recipe.inner.weightDecay,
      clipNorm: recipe.inner.clipNorm,
    },
    stepOffset: round * recipe.innerSteps,
    ...(recipe.inner.rewarmupSteps ? { rewarmupSteps: recipe.inner.rewarmupSteps } : {}),
  }
}

/** Trains `training.round` and publishes its update; throws what failed (the caller decides). */
export async function trainRound(
  ctx: RoundContext,
  running: Running,
  training: Training,
  state: LedgerState,
): Promise<RoundResult> {
  const { round } = training
  // The manifest in effect in this round: amendments may have changed the dataset or the model.
  const manifest = effectiveManifest(state, round)
  const { recipe } = manifest
  // Early (overlap.ts): from checkpoint round − 1, before round `round` has a record or deadline;
  // a nominal deadline (a round's length after round − 1's) bounds the waits and shows in progress.
  const base = training.early ? round - 1 : round
  const record = state.rounds[base]!
  const ledgerDeadline = training.early
    ? record.open!.deadline + recipe.roundDeadlineSec * 1000
    : record.open!.deadline
  const dataset = await roundInputs(running, manifest, ctx.onWarning)
  let sampler: ShardSampler | null = null
  try {
    ctx.setState('training', `round ${round}: fetching checkpoint`)
    // Not past the round's deadline: a checkpoint that arrives later is of no use, and waiting
    // for a host that vanished would hold the engine other projects could use.
    const untilDeadline = ctx.deadlines.deadline(round, ledgerDeadline) - ctx.now()
    const checkpoint = await syncCheckpoint(running, state, base, {
      wait: true,
      timeout: Math.max(1000, Math.min(ctx.ledgerTimeoutMs, untilDeadline)),
    })
    const shards = assignShards({
      projectKey: ctx.project,
      contributorKey: ctx.keyPair.publicKey,
      round,
      shardCount: dataset.trainingShards,
      count: shardsNeeded(manifest, dataset),
    })
    const started = ctx.now()
    ctx.setState('training', `round ${round}: training on ${shards.length} shard(s)`)
    const outcome = await ctx.engine.train({
      job: innerJob(manifest, round, checkpoint.weights),
      batchSize: recipe.batchSize,
      openData: () => {
        sampler?.close()
        sampler = new ShardSampler(dataset, {
          shards,
          batchSize: recipe.batchSize,
          seed: `${ctx.projectHex}/${round}/${hexOf(ctx.keyPair.publicKey)}`,
          ...samplerShape(manifest),
          read: { timeoutMs: ctx.dataTimeoutMs },
          ...(ctx.diskCapBytes ? { diskCap: diskCap(running, ctx.diskCapBytes()) } : {}),
        })
        return sampler
      },
      onStep: (info) => onStep(ctx, training, info, started, ledgerDeadline),
    })
    if (training.abandoned || ctx.stopped()) return { kind: 'dropped' }
    // Late: the error-feedback residual is left as it was; folding a stale Δ into the next round
    // is what the straggler policy avoids. (An early round's deadline is checked when its round
    // opens: overlap.ts.)
    if (!training.early && ctx.now() > ctx.deadlines.deadline(round, ledgerDeadline))
      return { kind: 'late' }

    ctx.setState('publishing', `round ${round}: compressing and publishing`)
    const feedback = (running.feedback ??= new ErrorFeedback(outcome.delta.length))
    const before = Float32Array.from(feedback.residual)
    const compressed = feedback.compress(outcome.delta, recipe.compression)
    let ref: Awaited<ReturnType<typeof publishUpdate>>
    try {
      ref = await publishUpdate(running.updateCore, {
        project: ctx.project,
        round,
        checkpointHash: record.checkpoint.contentHash,
        samples: roundSamples(manifest),
        encoded: compressed.bytes,
      })
    } catch (err) {
      feedback.residual.set(before) // nothing was sent: what compression left out is still owed
      throw err
    }
    const hash = hexOf(ref.hash)
    return {
      kind: 'published',
      hash,
      offer: {
        project: ctx.project,
        round,
        core: running.updateCore.key!,
        start: ref.start,
        length: ref.length,
        byteLength: ref.byteLength,
        hash: ref.hash,
        samples: roundSamples(manifest),
      },
      // A failed write costs only the residual, so it only warns.
      saveResidual: async () => {
        await ctx.files?.writeResidual(hash, feedback.residual).catch(ctx.onWarning)
      },
      restoreResidual: () => feedback.residual.set(before),
    }
  } finally {
    ;(sampler as ShardSampler | null)?.close()
  }
}

function onStep(
  ctx: RoundContext,
  training: Training,
  info: StepInfo,
  started: number,
  ledgerDeadline: number,
): void {
  training.step = info.step + 1
  const elapsed = Math.max(1, ctx.now() - started)
  const perStep = elapsed / training.step
  ctx.onProgress({
    round: training.round,
    step: training.step,
    steps: training.steps,
    loss: info.loss,
    samplesPerSec: info.ms > 0 ? (info.samples * 1000) / info.ms : 0,
    etaMs: Math.round(perStep * (training.steps - training.step)),
    deadline: ctx.deadlines.deadline(training.round, ledgerDeadline),
  })
}
