/**
 * Utilization: a real host and contributors on a loopback testnet, every node's upload and download
 * capped at 20 Mbit/s by its own RateLimiter (the node's rate caps), a model whose checkpoint takes
 * seconds on that link. For each contributor: the share of wall time its engine spent in training
 * steps (the engine's own per-step times), and where the rest went (the participant's states:
 * downloading the checkpoint and shards, publishing, waiting for the receipt and the next round).
 * Run twice on the same setup: without overlap, and with recipe.outer.overlap = 'one-step-delay'
 * (a contributor trains round r + 1 from checkpoint r while round r is aggregated; the host
 * re-bases those updates: core/host/rebase.ts), with each mode's final validation loss beside its
 * utilization, so the staleness cost shows next to the time it buys.
 */
import { TrainingEngine } from '../../../core/engine/engine.js'
import type { StepInfo } from '../../../core/engine/inner-loop.js'
import { checkpointByteLength } from '../../../core/engine/checkpoint.js'
import type { RoundClosedEvent } from '../../../core/host/host-events.js'
import { parameterCount } from '../../../core/host/round.js'
import type { ParticipantState } from '../../../core/node/participant/participant.js'
import { evalScope, meteredContributor, meteredHost } from '../support/swarm-run.js'
import type { Overlap } from '../../../core/ledger/manifest.js'
import type { ExperimentOptions, ExperimentResult } from '../types.js'

/** 20 Mbit/s in the settings' unit. */
const CAP_KIBPS = 20e6 / 8 / 1024

interface Timeline {
  steps: { end: number; ms: number }[]
  states: { at: number; state: ParticipantState }[]
}

/** Milliseconds of [from, to) in each state. */
function stateTimes(t: Timeline, from: number, to: number): Map<string, number> {
  const out = new Map<string, number>()
  t.states.forEach((s, i) => {
    const start = Math.max(from, s.at)
    const end = Math.min(to, t.states[i + 1]?.at ?? to)
    if (end > start) out.set(s.state, (out.get(s.state) ?? 0) + end - start)
  })
  return out
}

/** Milliseconds of training steps inside [from, to) (a step straddling `from` counts its part). */
function computeMs(t: Timeline, from: number, to: number): number {
  let ms = 0
  for (const s of t.steps) {
    const start = Math.max(from, s.end - s.ms)
    const end = Math.min(to, s.end)
    if (end > start) ms += end - start
  }
  return ms
}

/** One mode's run: per-contributor shares, per-round shares and the validation losses. */
interface ModeRun {
  overlap: Overlap
  perNode: {
    contributor: number
    utilization: number
    computeMs: number
    states: Map<string, number>
  }[]
  perRound: { round: number; seconds: number; utilization: number[] }[]
  mean: number
  /** Validation loss after each round (the host's round-closed lossAfter). */
  losses: number[]
  /** Accepted updates per round, and how many of them were re-based (trained early). */
  accepted: number[]
  rebased: number[]
  wallSec: number
  parameters: number
  checkpointBytes: number
}

interface Setup {
  contributors: number
  rounds: number
  h: number
  hidden: number[]
}

async function measure(o: ExperimentOptions, setup: Setup, overlap: Overlap): Promise<ModeRun> {
  const { contributors, rounds, h, hidden } = setup
  const caps = { uploadKiBps: CAP_KIBPS, downloadKiBps: CAP_KIBPS }
  const s = evalScope(o.log)
  try {
    const host = await meteredHost(s, {
      hidden,
      rounds,
      caps,
      recipe: {
        innerSteps: h,
        batchSize: 16,
        inner: {
          peakLr: 0.003,
          warmupSteps: 5,
          totalSteps: h * rounds,
          minLrRatio: 0.1,
          weightDecay: 0,
        },
        outer: overlap === 'none' ? {} : { overlap },
        minUpdates: contributors,
        maxUpdates: contributors,
        roundDeadlineSec: 600,
      },
    })
    const parameters = parameterCount(host.spec)
    const checkpointBytes = checkpointByteLength(host.spec.model)
    o.log(
      `[${overlap}] model: MLP 12 → ${hidden.join(' → ')} → 3, ${parameters.toLocaleString()} parameters, checkpoint ${(checkpointBytes / 1e6).toFixed(2)} MB`,
    )
    const timelines: Timeline[] = []
    const nodes = []
    for (let i = 0; i < contributors; i++) {
      const engine = new TrainingEngine({ backend: 'wasm', maxThreads: 1 })
      const c = await meteredContributor(s, host, caps, { engine })
      const t: Timeline = { steps: [], states: [] }
      engine.on('step', (info: StepInfo) => t.steps.push({ end: performance.now(), ms: info.ms }))
      c.participant.on('state', (state) => t.states.push({ at: performance.now(), state }))
      timelines.push(t)
      nodes.push(c)
    }
    const closes: { at: number; event: RoundClosedEvent }[] = []
    host.host.on('round-closed', (event) => {
      closes.push({ at: performance.now(), event })
      const rebased = event.contributions.filter(
        (c) => c.accepted && c.baseRound === event.round - 1,
      ).length
      o.log(
        `[${overlap}] round ${event.round} closed, ${event.accepted} accepted (${rebased} re-based), loss ${event.lossAfter.toFixed(4)}, ${(event.ms / 1000).toFixed(1)} s`,
      )
    })
    const began = performance.now()
    await host.host.start()
    await Promise.all(nodes.map((c) => c.participant.start()))
    await host.host.finished()

    // Steady state: from round 0's close (joining and the first download behind) to the last close.
    const from = closes[0]!.at
    const to = closes.at(-1)!.at
    const perNode = timelines.map((t, i) => {
      const compute = computeMs(t, from, to)
      const states = stateTimes(t, from, to)
      return { contributor: i, utilization: compute / (to - from), computeMs: compute, states }
    })
    const perRound = closes.slice(1).map((c, k) => {
      const start = closes[k]!.at
      const u = timelines.map((t) => computeMs(t, start, c.at) / (c.at - start))
      return { round: c.event.round, seconds: (c.at - start) / 1000, utilization: u }
    })
    const mean = perNode.reduce((a, p) => a + p.utilization, 0) / perNode.length
    return {
      overlap,
      perNode,
      perRound,
      mean,
      losses: closes.map((c) => c.event.lossAfter),
      accepted: closes.map((c) => c.event.accepted),
      rebased: closes.map(
        (c) =>
          c.event.contributions.filter((x) => x.accepted && x.baseRound === c.event.round - 1)
            .length,
      ),
      wallSec: (to - began) / 1000,
      parameters,
      checkpointBytes,
    }
  } finally {
    await s.close()
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`

export async function run(o: ExperimentOptions): Promise<ExperimentResult> {
  const setup: Setup = {
    contributors: o.quick ? 2 : 3,
    rounds: o.quick ? 3 : 4,
    h: o.quick ? 20 : 200,
    hidden: o.quick ? [256] : [1024, 1024],
  }
  const { contributors, rounds, h, hidden } = setup
  const runs: ModeRun[] = []
  for (const mode of ['none', 'one-step-delay'] as const) runs.push(await measure(o, setup, mode))
  const [off, on] = runs as [ModeRun, ModeRun]
  const { parameters: n, checkpointBytes } = on
  const stateNames = [
    ...new Set(runs.flatMap((r) => r.perNode.flatMap((p) => [...p.states.keys()]))),
  ].sort()
  const linkSec = checkpointBytes / (CAP_KIBPS * 1024)
  const window = `rounds 1–${rounds - 1}`
  return {
    name: 'utilization',
    title:
      'Utilization: compute share of each contributor at 20 Mbit/s, without and with one-step-delay overlap',
    table: {
      columns: [
        'overlap',
        'contributor',
        'utilization',
        'compute s',
        ...stateNames.map((st) => `${st} s`),
      ],
      rows: runs.flatMap((r) =>
        r.perNode.map((p) => [
          r.overlap,
          p.contributor,
          pct(p.utilization),
          Math.round(p.computeMs / 100) / 10,
          ...stateNames.map((st) => Math.round((p.states.get(st) ?? 0) / 100) / 10),
        ]),
      ),
    },
    targets: [
      {
        name: 'share of wall time computing, 20 Mbit/s links, one-step-delay overlap',
        target: '≥ 90 %',
        measured: `${pct(on.mean)} (mean of ${contributors} contributors, ${window}); without overlap ${pct(off.mean)}`,
        met: on.mean >= 0.9,
      },
      {
        name: 'staleness cost: final validation loss with overlap vs without',
        target: '≤ 1.05× the loss without overlap',
        measured: `${on.losses.at(-1)!.toFixed(4)} with, ${off.losses.at(-1)!.toFixed(4)} without (×${(on.losses.at(-1)! / off.losses.at(-1)!).toFixed(3)}) after ${rounds} rounds`,
        met: on.losses.at(-1)! <= 1.05 * off.losses.at(-1)!,
      },
    ],
    plots: [
      {
        file: 'utilization-per-round',
        title: 'Compute share of wall time per round, each contributor, without and with overlap',
        xLabel: 'round',
        yLabel: 'utilization',
        series: runs.flatMap((r) =>
          r.perNode.map((_, i) => ({
            label: `${r.overlap === 'none' ? 'no overlap' : 'overlap'}, contributor ${i}`,
            x: r.perRound.map((x) => x.round),
            y: r.perRound.map((x) => x.utilization[i] as number),
          })),
        ),
      },
      {
        file: 'utilization-loss',
        title: 'Validation loss after each round, without and with overlap',
        xLabel: 'round',
        yLabel: 'validation loss',
        series: runs.map((r) => ({
          label: r.overlap === 'none' ? 'no overlap' : 'one-step-delay overlap',
          x: r.losses.map((_, i) => i),
          y: r.losses,
        })),
      },
    ],
    details: {
      contributors,
      rounds,
      innerSteps: h,
      hidden,
      parameters: n,
      checkpointBytes,
      capKiBps: CAP_KIBPS,
      modes: runs.map((r) => ({
        overlap: r.overlap,
        meanUtilization: r.mean,
        finalLoss: r.losses.at(-1),
        losses: r.losses,
        accepted: r.accepted,
        rebased: r.rebased,
        wallSec: r.wallSec,
        perNode: r.perNode.map((p) => ({ ...p, states: Object.fromEntries(p.states) })),
        perRound: r.perRound,
      })),
    },
    notes: [
      `Real host and ${contributors} contributors on a loopback testnet, every node (host too) capped at 20 Mbit/s each way by its RateLimiter; MLP 12 → ${hidden.join(' → ')} → 3 (${n.toLocaleString()} parameters): the fp32 checkpoint (${(checkpointBytes / 1e6).toFixed(2)} MB) takes ${linkSec.toFixed(1)} s per contributor on the link, H = ${h} steps of batch 16 on the wasm backend. Compute = the engine's own step times (forward, backward, optimizer); the other columns are the participant's states over the same window (${window}: joining and round 0 left out). The same setup runs twice, without overlap and with recipe.outer.overlap = 'one-step-delay'.`,
      "Everything ran on one 2-core machine shared with other work: the contributors' steps were slower than on their own machines, which flatters utilization (network time is real time at the cap).",
      `Without overlap: after offering, a contributor waits for the slowest contributor and the host's aggregation (waiting-receipt / idle), then downloads the next checkpoint (the whole fp32 model at 20 Mbit/s, while the host serves every contributor from one 20 Mbit/s uplink) and spawns its training worker; none of it overlaps with training (${pct(off.mean)}).`,
      `With one-step-delay overlap: as soon as it has offered round r, a contributor trains round r + 1 from checkpoint r (it holds it already) and offers that update when round r + 1 opens; the host re-bases it onto checkpoint r + 1 (Δ − (θ_r − θ_{r+1})) and records the base in the receipt, which \`tandem verify\` replays. The aggregation wait and the checkpoint download then overlap the next round's training (${pct(on.mean)}); ${on.rebased.reduce((a, b) => a + b, 0)} of ${on.accepted.reduce((a, b) => a + b, 0)} accepted updates were re-based. Final validation loss ${on.losses.at(-1)!.toFixed(4)} with overlap against ${off.losses.at(-1)!.toFixed(4)} without: the price of training from a checkpoint one outer step old.`,
      ...(o.quick
        ? [
            `Quick variant: ${contributors} contributors, MLP 12 → ${hidden.join(' → ')} → 3, H = ${h}, ${rounds} rounds.`,
          ]
        : []),
    ],
  }
}
