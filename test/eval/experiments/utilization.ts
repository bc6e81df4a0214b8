/**
 * Utilization: a real host and contributors on a loopback testnet, every node's upload and download
 * capped at 20 Mbit/s by its own RateLimiter (the node's rate caps), a model whose checkpoint takes
 * seconds on that link. For each contributor: the share of wall time its engine spent in training
 * steps (the engine's own per-step times), and where the rest went (the participant's states:
 * downloading the checkpoint and shards, publishing, waiting for the receipt and the next round).
 */
import { TrainingEngine } from '../../../core/engine/engine.js'
import type { StepInfo } from '../../../core/engine/inner-loop.js'
import { checkpointByteLength } from '../../../core/engine/checkpoint.js'
import type { RoundClosedEvent } from '../../../core/host/host-events.js'
import { parameterCount } from '../../../core/host/round.js'
import type { ParticipantState } from '../../../core/node/participant/participant.js'
import { evalScope, meteredContributor, meteredHost } from '../support/swarm-run.js'
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

export async function run(o: ExperimentOptions): Promise<ExperimentResult> {
  const contributors = o.quick ? 2 : 3
  const rounds = o.quick ? 3 : 4
  const h = o.quick ? 20 : 200
  const hidden = o.quick ? [256] : [1024, 1024]
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
        minUpdates: contributors,
        maxUpdates: contributors,
        roundDeadlineSec: 600,
      },
    })
    const n = parameterCount(host.spec)
    const checkpointBytes = checkpointByteLength(host.spec.model)
    o.log(
      `model: MLP 12 → ${hidden.join(' → ')} → 3, ${n.toLocaleString()} parameters, checkpoint ${(checkpointBytes / 1e6).toFixed(2)} MB`,
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
      o.log(
        `round ${event.round} closed, ${event.accepted} accepted, ${(event.ms / 1000).toFixed(1)} s`,
      )
    })
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
    const stateNames = [...new Set(perNode.flatMap((p) => [...p.states.keys()]))].sort()
    const perRound = closes.slice(1).map((c, k) => {
      const start = closes[k]!.at
      const u = timelines.map((t) => computeMs(t, start, c.at) / (c.at - start))
      return { round: c.event.round, seconds: (c.at - start) / 1000, utilization: u }
    })
    const mean = perNode.reduce((a, p) => a + p.utilization, 0) / perNode.length
    const linkSec = checkpointBytes / (CAP_KIBPS * 1024)
    return {
      name: 'utilization',
      title: 'Utilization: compute share of each contributor at 20 Mbit/s',
      table: {
        columns: ['contributor', 'utilization', 'compute s', ...stateNames.map((st) => `${st} s`)],
        rows: perNode.map((p) => [
          p.contributor,
          `${(p.utilization * 100).toFixed(1)} %`,
          Math.round(p.computeMs / 100) / 10,
          ...stateNames.map((st) => Math.round((p.states.get(st) ?? 0) / 100) / 10),
        ]),
      },
      targets: [
        {
          name: 'share of wall time computing, 20 Mbit/s links',
          target: '≥ 90 %',
          measured: `${(mean * 100).toFixed(1)} % (mean of ${contributors} contributors, rounds 1–${rounds - 1})`,
          met: mean >= 0.9,
        },
      ],
      plots: [
        {
          file: 'utilization-per-round',
          title: 'Compute share of wall time per round, each contributor',
          xLabel: 'round',
          yLabel: 'utilization',
          series: timelines.map((_, i) => ({
            label: `contributor ${i}`,
            x: perRound.map((r) => r.round),
            y: perRound.map((r) => r.utilization[i] as number),
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
        perNode: perNode.map((p) => ({ ...p, states: Object.fromEntries(p.states) })),
        perRound,
      },
      notes: [
        `Real host and ${contributors} contributors on a loopback testnet, every node (host too) capped at 20 Mbit/s each way by its RateLimiter; MLP 12 → ${hidden.join(' → ')} → 3 (${n.toLocaleString()} parameters): the fp32 checkpoint (${(checkpointBytes / 1e6).toFixed(2)} MB) takes ${linkSec.toFixed(1)} s per contributor on the link, H = ${h} steps of batch 16 on the wasm backend. Compute = the engine's own step times (forward, backward, optimizer); the other columns are the participant's states over the same window (rounds 1 to ${rounds - 1}: joining and round 0 left out).`,
        "Everything ran on one 2-core machine shared with other work: the contributors' steps were slower than on their own machines, which flatters utilization (network time is real time at the cap).",
        "Where the rest goes: after offering, a contributor waits for the slowest contributor and the host's aggregation (waiting-receipt / idle), then downloads the next checkpoint (the whole fp32 model at 20 Mbit/s, while the host serves every contributor from one 20 Mbit/s uplink) and spawns its training worker. None of it overlaps with training.",
        'Not implemented: DiLoCoX\'s one-step-delay overlap (train round r+1 from checkpoint r while round r is aggregated, then correct for the stale start). With it the wait for aggregation and the checkpoint download would overlap with the next round\'s compute, and utilization would approach compute / max(compute, communication); docs/eval-design.md, "One-step-delay overlap", describes it and what it changes in the ledger.',
        ...(o.quick ? ['Quick variant: 2 contributors, MLP 12 → 256 → 3, H = 20, 3 rounds.'] : []),
      ],
    }
  } finally {
    await s.close()
  }
}
