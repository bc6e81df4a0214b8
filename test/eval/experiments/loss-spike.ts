/**
 * The per-round loss spike (issue 16): each round's inner AdamW starts with zero moments, so its
 * first step moves every coordinate by about the full lr (m̂/√v̂ = ±1), and the training loss jumps
 * in the first steps of every round after the schedule's warmup. The fix is recipe.inner.
 * rewarmupSteps (a short linear re-warmup of the lr at the start of every round). This runs the
 * same DiLoCo run (byte-level transformer on tinyshakespeare, or the generated corpus) without and
 * with re-warmup and compares each round's first steps with the previous round's last ones.
 *
 * In-process (test/eval/sim.ts): real TF.js training and the host's computeRound; the spike is a
 * property of the contributors' inner loop, so the network does not change it.
 *
 * Standalone: node --import tsx test/eval/experiments/loss-spike.ts [--quick] [--out dir]
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { generateCorpus } from '../../../core/demo/corpus.js'
import {
  createManifest,
  parseProjectSpec,
  REWARMUP_DEFAULT,
} from '../../../core/ledger/manifest.js'
import { charTask, simulate, SHARED_DATA, type SimRound } from '../support/diloco-sim.js'
import type { ExperimentOptions, ExperimentResult, Series } from '../types.js'
import { standalone } from '../support/standalone-experiment.js'

/** First steps of a round compared with the previous round's last ones. */
export const SPIKE_STEPS = 5
/** Target: the first steps' loss at most this factor above the previous round's end. */
export const SPIKE_FACTOR = 1.1

/** Mean over contributors of step i's loss. */
const stepMean = (r: SimRound, i: number) =>
  r.stepLosses.reduce((a, l) => a + l[i]!, 0) / r.stepLosses.length

/**
 * Per round r ≥ 1: max over its first SPIKE_STEPS steps of the contributor-mean loss, divided by
 * the mean of round r−1's last SPIKE_STEPS steps.
 */
export function spikeFactors(rounds: SimRound[], steps: number): number[] {
  const out: number[] = []
  for (let r = 1; r < rounds.length; r++) {
    const prev = rounds[r - 1]!
    let end = 0
    for (let i = steps - SPIKE_STEPS; i < steps; i++) end += stepMean(prev, i) / SPIKE_STEPS
    let first = -Infinity
    for (let i = 0; i < SPIKE_STEPS; i++) first = Math.max(first, stepMean(rounds[r]!, i))
    out.push(first / end)
  }
  return out
}

function corpus(dataDir: string | undefined): Uint8Array {
  const file = join(dataDir ?? SHARED_DATA, 'tinyshakespeare.txt')
  if (existsSync(file)) return readFileSync(file)
  return new TextEncoder().encode(generateCorpus(400_000, 1))
}

export async function run(options: ExperimentOptions): Promise<ExperimentResult> {
  await selectBackend('wasm').catch(() => selectBackend('cpu'))
  const q = options.quick
  const H = 30
  const rounds = q ? 4 : 8
  const contributors = q ? 2 : 4
  const variants = q ? [0, REWARMUP_DEFAULT] : [0, REWARMUP_DEFAULT, 10]
  const text = corpus(options.dataDir)
  const results: { rewarmup: number; rounds: SimRound[]; spikes: number[]; final: number }[] = []
  for (const rewarmup of variants) {
    const spec = parseProjectSpec({
      name: 'loss-spike',
      model: {
        type: 'transformer',
        vocab: 256,
        context: 32,
        dModel: 32,
        heads: 2,
        layers: 1,
        mlpRatio: 4,
      },
      dataset: { key: 'ab'.repeat(32) },
      recipe: {
        innerSteps: H,
        batchSize: 16,
        // Warmup over round 0 only, as the demo's recipe (warmupSteps = innerSteps).
        inner: {
          peakLr: 3e-3,
          warmupSteps: H,
          totalSteps: 20_000,
          minLrRatio: 0.1,
          rewarmupSteps: rewarmup,
        },
        outer: {},
        roundDeadlineSec: 60,
        minUpdates: 1,
        maxUpdates: 16,
      },
      aggregation: { rule: 'centered-clip' },
      seed: 3 + options.seed,
    })
    const manifest = createManifest(spec, 'cd'.repeat(32), 0)
    const task = charTask(manifest.model, text, { contributors, validation: 32, heldOut: 64 })
    const sim = await simulate({
      manifest,
      task,
      behaviours: Array.from({ length: contributors }, () => 'honest' as const),
      rounds,
      seed: options.seed,
      onRound: (r) =>
        options.log(
          `loss-spike rewarmup ${rewarmup}: round ${r.round} held-out ${r.heldOutLoss.toFixed(4)}`,
        ),
    })
    results.push({
      rewarmup,
      rounds: sim.rounds,
      spikes: spikeFactors(sim.rounds, H),
      final: sim.finalHeldOut,
    })
  }
  const series = (rw: (typeof results)[number]): Series => {
    const x: number[] = []
    const y: number[] = []
    rw.rounds.forEach((r, ri) => {
      for (let i = 0; i < H; i++) {
        x.push(ri * H + i)
        y.push(stepMean(r, i))
      }
    })
    return { label: rw.rewarmup ? `re-warmup ${rw.rewarmup} steps` : 'no re-warmup (before)', x, y }
  }
  const fixed = results.find((r) => r.rewarmup === REWARMUP_DEFAULT)!
  const before = results.find((r) => r.rewarmup === 0)!
  const worst = (r: (typeof results)[number]) => Math.max(...r.spikes)
  return {
    name: 'loss-spike',
    title: 'Per-round loss spike: first inner steps of each round against the previous round’s end',
    table: {
      columns: [
        're-warmup steps',
        'worst spike factor',
        'spike factor per round (r ≥ 1)',
        'final held-out loss',
      ],
      rows: results.map((r) => [
        r.rewarmup,
        Number(worst(r).toFixed(3)),
        r.spikes.map((s) => s.toFixed(3)).join(' '),
        Number(r.final.toFixed(4)),
      ]),
    },
    targets: [
      {
        name: 'spike gone',
        target: `first ${SPIKE_STEPS} steps ≤ ${SPIKE_FACTOR}× the previous round's last ${SPIKE_STEPS} (re-warmup ${REWARMUP_DEFAULT}, the default)`,
        measured: `${worst(fixed).toFixed(3)}× (without re-warmup ${worst(before).toFixed(3)}×)`,
        met: worst(fixed) <= SPIKE_FACTOR,
      },
    ],
    plots: [
      {
        file: 'loss-spike',
        title: 'Training loss per inner step across rounds (mean of the contributors)',
        xLabel: 'inner step (round × H + step)',
        yLabel: 'training loss',
        series: results.map(series),
      },
    ],
    details: {
      innerSteps: H,
      rounds,
      contributors,
      model: 'transformer d=32, 1 layer, context 32, byte vocabulary',
      results: results.map((r) => ({ rewarmup: r.rewarmup, spikes: r.spikes, final: r.final })),
    },
    notes: [
      'Spike factor of round r: the highest contributor-mean loss over its first 5 inner steps, over the mean of round r−1’s last 5.',
      'Cause: the inner AdamW starts each round with zero moments, so its first bias-corrected step is ±lr in every coordinate, at the full scheduled lr once the warmup (round 0) is over.',
      `Fix: recipe.inner.rewarmupSteps, a linear re-warmup of the lr over the first steps of every round; new projects get REWARMUP_DEFAULT = ${REWARMUP_DEFAULT} steps (capped at H), the shortest that removed the spike here and the best final loss of the variants. The verifier does not replay training, so this changes no verdict; recipes without the field train as before.`,
    ],
  }
}

standalone(import.meta.url, 'loss-spike', run)
