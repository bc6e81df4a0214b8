/**
 * Side runs for the convergence gap (docs/eval-design.md, "Reading the convergence gap"): DiLoCo
 * H = 50 with 4 workers on the convergence experiment's exact data, model, seeds and schedule, one
 * run per variant, printing the final validation loss and its gap to the synchronous baseline.
 * Not part of `npm run eval` (each variant is about two minutes on one core).
 *
 *   node --import tsx test/eval/side/convergence-variants.ts base keep outer=1.0,0.9 f32 rw=3 sync
 *
 * Variants (comma-free tokens joined by '+', e.g. keep+rw=3+outer=0.9,0.9):
 *   base | keep (keep AdamW moments across rounds) | rw=N (re-warmup steps) | f32 (uncompressed)
 *   outer=LR,MU | h=N (H) | sync (the synchronous baseline itself)
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DEFAULT_AGGREGATION } from '../../../core/aggregate/aggregate.js'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import {
  DEFAULT_COMPRESSION,
  type CompressionConfig,
} from '../../../core/engine/compress/error-feedback.js'
import { DEFAULT_OUTER, type OuterConfig } from '../../../core/engine/optim/nesterov.js'
import { concatBatches } from '../support/char-corpus.js'
import { convergenceSetup, WORKERS } from '../support/convergence-setup.js'
import { continuousRun, dilocoRun } from '../support/training-runs.js'

/** The published synchronous baseline (docs/eval/convergence/convergence.json). */
const SYNC_LOSS = Number(process.env.SYNC_LOSS ?? 2.1131)
const seed = 1

async function main(variants: string[]) {
  await selectBackend('wasm', []).catch(() => selectBackend('cpu', []))
  const root = resolve(import.meta.dirname, '..', '..', '..')
  const dataDir = [
    join(root, '..', 'shared', 'data'),
    join(root, '..', '..', 'shared', 'data'),
  ].find((d) => existsSync(d))
  const { stepsPerWorker, common, streams } = convergenceSetup({ dataDir, quick: false, seed })
  for (const variant of variants) {
    const t0 = performance.now()
    let loss: number
    if (variant === 'sync') {
      const s = streams()
      const r = await continuousRun('sync', {
        ...common,
        steps: stepsPerWorker,
        nextBatch: () => concatBatches(s.map((x) => x())),
        evalEvery: stepsPerWorker,
        dataParallel: { workers: WORKERS, workerStepSec: 0 },
      })
      loss = r.finalLoss
    } else {
      let h = 50
      let outer: OuterConfig = DEFAULT_OUTER
      let compression: CompressionConfig = DEFAULT_COMPRESSION
      let rewarmupSteps = 0
      let keepMoments = false
      for (const t of variant.split('+')) {
        if (t === 'base') continue
        else if (t === 'keep') keepMoments = true
        else if (t === 'f32') compression = { method: 'f32' }
        else if (t.startsWith('rw=')) rewarmupSteps = Number(t.slice(3))
        else if (t.startsWith('h=')) h = Number(t.slice(2))
        else if (t.startsWith('outer=')) {
          const [lr, mu] = t.slice(6).split(',').map(Number)
          outer = { lr: lr as number, momentum: mu as number }
        } else throw new Error(`unknown variant token ${t}`)
      }
      const r = await dilocoRun(variant, {
        ...common,
        workers: WORKERS,
        innerSteps: h,
        rounds: stepsPerWorker / h,
        streams: streams(),
        compression,
        aggregation: DEFAULT_AGGREGATION,
        outer,
        evalEveryRounds: stepsPerWorker / h,
        rewarmupSteps,
        keepMoments,
      })
      loss = r.finalLoss
    }
    const gap = ((loss - SYNC_LOSS) / SYNC_LOSS) * 100
    console.log(
      JSON.stringify({
        variant,
        finalLoss: Math.round(loss * 1e4) / 1e4,
        gapPct: Math.round(gap * 100) / 100,
        seconds: Math.round((performance.now() - t0) / 1000),
      }),
    )
  }
}

await main(process.argv.slice(2))
process.exit(0)
