/**
 * Convergence: a character-level transformer LM trained by DiLoCo with 4 workers at several H,
 * against synchronous data-parallel training on the same samples (4× batch, one step per batch:
 * exactly the union of the four workers' batches) and against a single worker. Validation loss on
 * a fixed held-out batch, against samples and against modelled wall time. See
 * ../support/training-runs.ts for what runs for real and what is modelled.
 */
import { DEFAULT_AGGREGATION } from '../../../core/aggregate/aggregate.js'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { DEFAULT_COMPRESSION } from '../../../core/engine/compress/error-feedback.js'
import { DEFAULT_OUTER } from '../../../core/engine/optim/nesterov.js'
import { countParams } from '../../../core/engine/spec/cost.js'
import { REWARMUP_DEFAULT } from '../../../core/ledger/manifest.js'
import { concatBatches, trainStream } from '../support/char-corpus.js'
import { convergenceSetup, LINK_BYTES_PER_SEC, WORKERS } from '../support/convergence-setup.js'
import { continuousRun, dilocoRun, lossAtWall, type RunResult } from '../support/training-runs.js'
import type { ExperimentOptions, ExperimentResult, TargetCheck } from '../types.js'

export async function run(o: ExperimentOptions): Promise<ExperimentResult> {
  const backend = await selectBackend('wasm', []).catch(() => selectBackend('cpu', []))
  const { corpus, context, spec, batch, stepsPerWorker, common, workerSeed, streams } =
    convergenceSetup(o)
  const { schedule, adamw, validation } = common
  // Quick: H = 50 would leave about three outer steps, too few to say anything; H = 10 stands in.
  const hs = o.quick ? [10] : [10, 50, 200]
  const targetH = o.quick ? 10 : 50
  const evalEvery = o.quick ? 10 : 25
  o.log(
    `${corpus.source}: vocab ${corpus.vocab}, ${countParams(spec).toLocaleString()} parameters, ` +
      `backend ${backend.chosen}, ${stepsPerWorker} steps per worker of batch ${batch}`,
  )

  // Single worker at the same number of steps as each DiLoCo worker: the equal-wall-time rival.
  const single = await continuousRun('single worker', {
    ...common,
    steps: stepsPerWorker,
    nextBatch: trainStream(corpus, batch, context, workerSeed(0)),
    evalEvery,
    log: o.log,
  })
  // Synchronous data-parallel: each step's batch is the four workers' batches together.
  const syncStreams = streams()
  const sync = await continuousRun('synchronous 4× batch', {
    ...common,
    steps: stepsPerWorker,
    nextBatch: () => concatBatches(syncStreams.map((s) => s())),
    evalEvery,
    dataParallel: { workers: WORKERS, workerStepSec: single.stepSec },
    log: o.log,
  })
  const diloco: { h: number; run: RunResult }[] = []
  for (const h of hs) {
    const rounds = stepsPerWorker / h
    diloco.push({
      h,
      run: await dilocoRun(`DiLoCo H=${h}`, {
        ...common,
        workers: WORKERS,
        innerSteps: h,
        rounds,
        streams: streams(),
        compression: DEFAULT_COMPRESSION,
        aggregation: DEFAULT_AGGREGATION,
        outer: DEFAULT_OUTER,
        evalEveryRounds: Math.max(1, Math.round(evalEvery / h)),
        // What createManifest gives a new project with this H.
        rewarmupSteps: Math.min(REWARMUP_DEFAULT, h),
        log: o.log,
      }),
    })
  }
  // The single worker given all the samples (4× the steps, its own schedule), for the samples plot.
  const singleAll = o.quick
    ? undefined
    : await continuousRun('single worker, same samples', {
        ...common,
        schedule: { ...schedule, totalSteps: stepsPerWorker * WORKERS },
        steps: stepsPerWorker * WORKERS,
        nextBatch: trainStream(corpus, batch, context, workerSeed(0)),
        evalEvery: evalEvery * WORKERS,
        log: o.log,
      })

  const runs: RunResult[] = [
    sync,
    ...diloco.map((d) => d.run),
    single,
    ...(singleAll ? [singleAll] : []),
  ]
  const gap = (r: RunResult) => (r.finalLoss - sync.finalLoss) / sync.finalLoss
  const rows = runs.map((r) => {
    const last = r.points.at(-1)!
    const h = diloco.find((d) => d.run === r)?.h ?? null
    return [
      r.label,
      h,
      last.samples,
      round(r.finalLoss, 4),
      `${(gap(r) * 100).toFixed(2)} %`,
      round(r.computeSec, 1),
      round(r.commSec, 1),
      round(last.wallSec, 1),
      Math.round(r.bytesSentPerWorker),
      Math.round(r.bytesReceivedPerWorker),
    ]
  })

  const targets: TargetCheck[] = []
  const h50 = diloco.find((d) => d.h === targetH)?.run
  const rivals = [single, ...(singleAll ? [singleAll] : [])]
  const beats = (r: RunResult) => {
    const wall = r.points.at(-1)!.wallSec
    // The single worker's best loss by the time DiLoCo finished, over both of its runs.
    const best = Math.min(...rivals.map((s) => lossAtWall(s, wall)))
    return { wall, best, met: r.finalLoss < best }
  }
  if (h50) {
    targets.push({
      name: `DiLoCo H=${targetH} vs synchronous, equal samples`,
      target: 'val loss within 2 % of synchronous',
      measured: `${round(h50.finalLoss, 4)} vs ${round(sync.finalLoss, 4)} (${(gap(h50) * 100).toFixed(2)} %)`,
      met: gap(h50) <= 0.02,
    })
    const b = beats(h50)
    targets.push({
      name: `DiLoCo H=${targetH} vs single worker, equal wall time`,
      target: 'lower val loss',
      measured: `${round(h50.finalLoss, 4)} vs ${round(b.best, 4)} at ${b.wall.toFixed(1)} s`,
      met: b.met,
    })
  }

  return {
    name: 'convergence',
    title: 'Convergence: DiLoCo against synchronous data-parallel and a single worker',
    table: {
      columns: [
        'run',
        'H',
        'samples',
        'final val loss',
        'gap vs sync',
        'compute s (all workers)',
        'comm s (modelled)',
        'wall s (modelled)',
        'bytes sent / worker',
        'bytes received / worker',
      ],
      rows,
    },
    targets,
    plots: [
      {
        file: 'loss-vs-samples',
        title: 'Validation loss against training samples',
        xLabel: 'samples (windows of 16 characters)',
        yLabel: 'validation loss (nats/char)',
        series: runs.map((r) => ({
          label: r.label,
          x: r.points.map((p) => p.samples),
          y: r.points.map((p) => p.loss),
        })),
      },
      {
        file: 'loss-vs-wall',
        title: 'Validation loss against wall time (4 workers in parallel, 20 Mbit/s links)',
        xLabel: 'modelled wall time (s)',
        yLabel: 'validation loss (nats/char)',
        series: runs.map((r) => ({
          label: r.label,
          x: r.points.map((p) => p.wallSec),
          y: r.points.map((p) => p.loss),
        })),
      },
    ],
    details: {
      corpus: corpus.source,
      vocab: corpus.vocab,
      spec,
      parameters: countParams(spec),
      backend: backend.chosen,
      batchPerWorker: batch,
      workers: WORKERS,
      stepsPerWorker,
      schedule,
      adamw,
      outer: DEFAULT_OUTER,
      rewarmupSteps: REWARMUP_DEFAULT,
      compression: DEFAULT_COMPRESSION,
      aggregation: DEFAULT_AGGREGATION,
      linkBytesPerSec: LINK_BYTES_PER_SEC,
      validationWindows: validation.batch,
      diloco: diloco.map((d) => ({ h: d.h, final: d.run.finalLoss, ...beats(d.run) })),
      runs,
    },
    notes: [
      `Data: ${corpus.source}, characters as tokens (vocab ${corpus.vocab}); the last 10 % is held out and every run is scored on the same ${validation.batch} held-out windows.`,
      `Model: transformer, context 16, d 32, 4 heads, 2 layers (${countParams(spec).toLocaleString()} parameters), trained with the engine's own inner loop (AdamW, warmup + cosine indexed by the global inner step) on the ${backend.chosen} backend. DiLoCo uses the project defaults: int8 compression with error feedback per worker, ${DEFAULT_AGGREGATION.rule} aggregation weighted by samples, Nesterov outer step (lr ${DEFAULT_OUTER.lr}, momentum ${DEFAULT_OUTER.momentum}), and a fresh AdamW each round as the participant does, its lr re-warmed over the first ${REWARMUP_DEFAULT} steps of every round (recipe.inner.rewarmupSteps, the default of new projects).`,
      "The four workers ran one after another in this process; wall time is modelled as if they ran in parallel: per round the slowest worker's measured compute + the measured aggregation + the compressed upload and the fp32 checkpoint download at 20 Mbit/s. Synchronous data-parallel: per step the single worker's measured step time (each of 4 workers computes a quarter of the 4× batch) + a ring all-reduce of fp32 gradients (2·(W−1)/W·4n bytes each way) at 20 Mbit/s. The single worker's wall time is its measured compute.",
      "Equal wall time compares DiLoCo's final loss with the single worker's best loss reached by the same time, over both single-worker runs (its own-length schedule and the 4×-steps one), the comparison least favourable to DiLoCo.",
      ...(o.quick
        ? [
            'Quick variant: 160 steps per worker, H = 10 only (the targets are checked on it instead of H = 50), no 4×-steps single-worker run.',
          ]
        : []),
    ],
  }
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits
