/**
 * Robustness (issue 16, experiment 3): 25 % of the contributors attack every round — sign flip,
 * Gaussian noise, ALIE with its published z, inner-product manipulation, label-flip poisoning,
 * free-riders sending zeros or tiny updates, replayers of old updates, copiers of honest updates,
 * exact or perturbed (scaled, with noise, so the hash differs) —
 * against every aggregation rule of core/aggregate, with the host's screening, harmful check,
 * quality and credits. Reported: final held-out loss against the clean run, credits paid to the
 * attackers against an honest contributor's, credits paid to rejected updates, and honest
 * contributions rejected, in clean and attacked runs, including runs trained to convergence.
 *
 * How: in-process (test/eval/support/diloco-sim.ts). Every contributor trains for real (TF.js,
 * the engine's inner loop), updates are int8-encoded as the participant does, and every round is
 * closed by computeRound, the function the host runs at close and `tandem verify` replays; only
 * the network (offers, downloads, acks) is left out, since no figure here depends on it. The
 * quick variant runs the same code on fewer attacks, rules and rounds.
 *
 * Standalone: node --import tsx test/eval/experiments/robustness.ts [--quick] [--out dir]
 */
import { selectBackend } from '../../../core/engine/backends/probe.js'
import type { ModelSpec } from '../../../core/engine/spec/schema.js'
import {
  cosine,
  NEAR_DUPLICATE_COSINE,
  SPREAD_FLOOR,
  SPREAD_FULL,
} from '../../../core/host/scoring.js'
import {
  createManifest,
  parseProjectSpec,
  SCORING_DEFAULT,
  type Manifest,
  type ScoringVersion,
} from '../../../core/ledger/manifest.js'
import {
  alieZ,
  clusterTask,
  haveMnist,
  mnistTask,
  PERTURBATION,
  simulate,
  type Behaviour,
  type SimOptions,
  type SimResult,
  type SimTask,
} from '../support/diloco-sim.js'
import { standalone } from '../support/standalone-experiment.js'
import type { ExperimentOptions, ExperimentResult, Plot, TargetCheck } from '../types.js'

type AggregationRule = Manifest['aggregation']['rule']
type Rule = AggregationRule | 'undefended'
export type Attack = Exclude<Behaviour, 'honest'> | 'none'

export const ALL_ATTACKS: Attack[] = [
  'none',
  'sign-flip',
  'noise',
  'alie',
  'ipm',
  'label-flip',
  'zeros',
  'tiny',
  'replay',
  'copy',
  'perturbed-copy',
]
export const QUICK_ATTACKS: Attack[] = [
  'none',
  'sign-flip',
  'noise',
  'label-flip',
  'zeros',
  'copy',
  'perturbed-copy',
]
const ALL_RULES: Rule[] = [
  'centered-clip',
  'mean',
  'median',
  'trimmed-mean',
  'multi-krum',
  'undefended',
]
const QUICK_RULES: Rule[] = ['centered-clip', 'mean', 'undefended']
const FREE_RIDERS: Attack[] = ['zeros', 'tiny', 'replay', 'copy', 'perturbed-copy']
const DEFAULT_RULE: AggregationRule = 'centered-clip'

const CONTRIBUTORS = 8
const ATTACKERS = 2
const H = 10
const B = 32

export interface RunSummary {
  attack: Attack
  rule: Rule
  scoring: ScoringVersion
  finalLoss: number
  /** finalLoss / the clean run's with the same rule. */
  vsClean: number
  honestRejected: number
  honestTotal: number
  attackersAccepted: number
  attackerTotal: number
  /** Credits per attacker over credits per honest contributor (whole run). */
  attackerCreditShare: number
  /** Credits (GFLOP) per honest contributor over the whole run. */
  honestCredit: number
  /** Credits granted to rejected contributions (must be 0). */
  creditsToRejected: number
  rejectedReasons: Record<string, number>
  heldOut: number[]
}

function manifestFor(
  spec: ModelSpec,
  rule: AggregationRule,
  rounds: number,
  scoring: ScoringVersion,
  lr = 2e-3,
): Manifest {
  return createManifest(
    parseProjectSpec({
      name: 'robustness',
      model: spec,
      dataset: { key: 'ab'.repeat(32) },
      recipe: {
        innerSteps: H,
        batchSize: B,
        inner: { peakLr: lr, warmupSteps: 2, totalSteps: rounds * H, minLrRatio: 0.1 },
        outer: { lr: 0.7, momentum: 0.9 },
        roundDeadlineSec: 60,
        minUpdates: 1,
        maxUpdates: 64,
      },
      aggregation: { rule, scoring },
      seed: 5,
    }),
    'cd'.repeat(32),
    0,
  )
}

export function summarize(
  attack: Attack,
  rule: Rule,
  sim: SimResult,
  cleanLoss: number,
  scoring: ScoringVersion = SCORING_DEFAULT,
): RunSummary {
  const honest = new Set(sim.behaviours.flatMap((b, k) => (b === 'honest' ? [k] : [])))
  let honestRejected = 0
  let honestTotal = 0
  let attackersAccepted = 0
  let attackerTotal = 0
  let honestCredits = 0
  let attackerCredits = 0
  let creditsToRejected = 0
  const rejectedReasons: Record<string, number> = {}
  for (const r of sim.rounds)
    r.contributions.forEach((c, k) => {
      if (!c.accepted) {
        creditsToRejected += c.credits
        rejectedReasons[c.reason!] = (rejectedReasons[c.reason!] ?? 0) + 1
      }
      if (honest.has(k)) {
        honestTotal++
        if (!c.accepted) honestRejected++
        honestCredits += c.credits
      } else {
        attackerTotal++
        if (c.accepted) attackersAccepted++
        attackerCredits += c.credits
      }
    })
  const attackers = sim.behaviours.length - honest.size
  const perHonest = honest.size ? honestCredits / honest.size : 0
  return {
    attack,
    rule,
    scoring,
    finalLoss: sim.finalHeldOut,
    vsClean: sim.finalHeldOut / cleanLoss,
    honestRejected,
    honestTotal,
    attackersAccepted,
    attackerTotal,
    attackerCreditShare: attackers && perHonest > 0 ? attackerCredits / attackers / perHonest : 0,
    honestCredit: perHonest,
    creditsToRejected,
    rejectedReasons,
    heldOut: sim.rounds.map((r) => r.heldOutLoss),
  }
}

function behaviours(attack: Attack, total: number, attackers: number): Behaviour[] {
  return Array.from({ length: total }, (_, k) =>
    attack !== 'none' && k >= total - attackers ? attack : 'honest',
  )
}

/** One attacked (or clean) run of `rule` on `task`. */
export async function attackRun(o: {
  task: SimTask
  rule: Rule
  attack: Attack
  rounds: number
  scoring?: ScoringVersion
  contributors?: number
  attackers?: number
  lr?: number
  seed: number
  onUpdates?: SimOptions['onUpdates']
}): Promise<SimResult> {
  const rule = o.rule === 'undefended' ? 'mean' : o.rule
  const manifest = manifestFor(o.task.spec, rule, o.rounds, o.scoring ?? SCORING_DEFAULT, o.lr)
  return simulate({
    manifest,
    task: o.task,
    behaviours: behaviours(o.attack, o.contributors ?? CONTRIBUTORS, o.attackers ?? ATTACKERS),
    rounds: o.rounds,
    seed: o.seed,
    undefended: o.rule === 'undefended',
    ...(o.onUpdates ? { onUpdates: o.onUpdates } : {}),
  })
}

/** The task: MNIST (784-32-10 MLP) when the shared data has it, else generated clusters. */
export function robustnessTask(dataDir: string | undefined): SimTask {
  const mlp = (inputSize: number, classes: number) =>
    ({ type: 'mlp', inputSize, hidden: [32], classes, activation: 'relu' }) as const
  if (haveMnist(dataDir))
    return mnistTask(mlp(784, 10) as unknown as ModelSpec, {
      contributors: CONTRIBUTORS,
      train: 8000,
      validation: 512,
      ...(dataDir ? { dataDir } : {}),
    })
  return clusterTask(mlp(16, 4) as unknown as ModelSpec, {
    features: 16,
    classes: 4,
    noise: 1,
    validation: 512,
    heldOut: 2000,
  })
}

/** A task that trains to a tiny loss: where a relative harmful test turns into noise. */
export function convergedTask(noise = 0.8): SimTask {
  const spec = { type: 'mlp', inputSize: 16, hidden: [32], classes: 4, activation: 'relu' }
  return clusterTask(spec as unknown as ModelSpec, {
    features: 16,
    classes: 4,
    noise,
    validation: 512,
    heldOut: 2000,
  })
}

export interface ConvergedSummary {
  scoring: ScoringVersion
  attack: Attack
  finalValidationLoss: number
  honestRejected: number
  honestTotal: number
  attackersAccepted: number
  attackerTotal: number
  /** Credits per attacker over credits per honest contributor. */
  attackerCreditShare: number
  /** Credits (GFLOP) per honest contributor. */
  honestCredit: number
  /** Smallest spread (scoring v3) of an accepted honest update; absent under v1 and v2. */
  honestSpreadMin?: number
  emptyRounds: number
}

/** 3 honest contributors (+1 attacker) trained to a validation loss near 0. */
export async function convergedRun(o: {
  scoring: ScoringVersion
  attack: Attack
  rounds: number
  seed: number
  onUpdates?: SimOptions['onUpdates']
}): Promise<ConvergedSummary> {
  const task = convergedTask()
  const manifest = manifestFor(task.spec, DEFAULT_RULE, o.rounds, o.scoring, 1e-2)
  const sim = await simulate({
    manifest: { ...manifest, recipe: { ...manifest.recipe, innerSteps: 20 } },
    task,
    behaviours: behaviours(o.attack, o.attack === 'none' ? 3 : 4, 1),
    rounds: o.rounds,
    seed: o.seed,
    ...(o.onUpdates ? { onUpdates: o.onUpdates } : {}),
  })
  const s = summarize(o.attack, DEFAULT_RULE, sim, 1, o.scoring)
  return {
    scoring: o.scoring,
    attack: o.attack,
    finalValidationLoss: sim.rounds.at(-1)!.lossAfter,
    honestRejected: s.honestRejected,
    honestTotal: s.honestTotal,
    attackersAccepted: s.attackersAccepted,
    attackerTotal: s.attackerTotal,
    attackerCreditShare: s.attackerCreditShare,
    honestCredit: s.honestCredit,
    ...(spreadsOf(sim).honest.length
      ? { honestSpreadMin: Math.min(...spreadsOf(sim).honest) }
      : {}),
    emptyRounds: sim.rounds.filter((r) => !r.contributions.some((c) => c.accepted)).length,
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`

/** A distribution in brief. */
export interface Spread {
  n: number
  min: number
  p50: number
  p99: number
  max: number
}
export function brief(values: readonly number[]): Spread {
  const v = [...values].sort((a, b) => a - b)
  const at = (p: number) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1)))] ?? NaN
  return { n: v.length, min: v[0] ?? NaN, p50: at(0.5), p99: at(0.99), max: v.at(-1) ?? NaN }
}

/**
 * Cosines between a run's decoded updates, what scoring v3's near-duplicate threshold is set
 * against: honest pairs of one round, honest updates against the previous round's, and each
 * attacker's largest cosine with an honest update of its round. The first `honest` behaviours are
 * the honest ones (attackers come last).
 */
export function cosineCollector(honest: number) {
  const same: number[] = []
  const previous: number[] = []
  const attacker: number[] = []
  let last: Float32Array[] = []
  const onUpdates = (_: number, deltas: Float32Array[]) => {
    const h = deltas.slice(0, honest)
    for (let a = 0; a < h.length; a++)
      for (let b = a + 1; b < h.length; b++) same.push(cosine(h[a]!, h[b]!))
    for (const x of h) for (const y of last) previous.push(cosine(x, y))
    for (const x of deltas.slice(honest)) attacker.push(Math.max(...h.map((y) => cosine(x, y))))
    last = h
  }
  return { onUpdates, same, previous, attacker }
}

/** Spreads (scoring v3, score.spread) of a run's accepted honest and attacking updates. */
function spreadsOf(sim: SimResult): { honest: number[]; attackers: number[] } {
  const honest: number[] = []
  const attackers: number[] = []
  for (const r of sim.rounds)
    r.contributions.forEach((c, k) => {
      if (c.score?.spread === undefined || !c.accepted) return
      ;(sim.behaviours[k] === 'honest' ? honest : attackers).push(c.score.spread)
    })
  return { honest, attackers }
}

export async function run(options: ExperimentOptions): Promise<ExperimentResult> {
  await selectBackend('wasm').catch(() => selectBackend('cpu'))
  const q = options.quick
  const rounds = q ? 5 : 8
  const attacks = q ? QUICK_ATTACKS : ALL_ATTACKS
  const rules = q ? QUICK_RULES : ALL_RULES
  const task = robustnessTask(options.dataDir)
  const runs: RunSummary[] = []
  // Default rule only: honest cosines (the near-duplicate threshold's margin) and spreads.
  const cos = { same: [] as number[], previous: [] as number[] }
  const attackerCos: Record<string, number[]> = {}
  const spreads: Record<string, { honest: number[]; attackers: number[] }> = {}
  const cleanOf = new Map<Rule, number>()
  for (const rule of rules) {
    let clean = NaN
    for (const attack of attacks) {
      if (rule === 'undefended' && FREE_RIDERS.includes(attack)) continue
      const collect = cosineCollector(attack === 'none' ? CONTRIBUTORS : CONTRIBUTORS - ATTACKERS)
      const sim = await attackRun({
        task,
        rule,
        attack,
        rounds,
        seed: options.seed,
        ...(rule === DEFAULT_RULE ? { onUpdates: collect.onUpdates } : {}),
      })
      if (rule === DEFAULT_RULE) {
        cos.same.push(...collect.same)
        cos.previous.push(...collect.previous)
        if (attack !== 'none') attackerCos[attack] = collect.attacker
        spreads[attack] = spreadsOf(sim)
      }
      if (attack === 'none') clean = sim.finalHeldOut
      cleanOf.set(rule, clean)
      const s = summarize(attack, rule, sim, clean)
      runs.push(s)
      options.log(
        `robustness ${rule} / ${attack}: loss ${s.finalLoss.toFixed(4)} (${s.vsClean.toFixed(3)}× clean), honest rejected ${s.honestRejected}/${s.honestTotal}, attacker credit ${pct(s.attackerCreditShare)}`,
      )
    }
  }

  // The attacks scoring v3 answers, under v2 (the rule before it), for comparison.
  const before: RunSummary[] = []
  if (!q)
    for (const attack of ['alie', 'perturbed-copy'] as Attack[]) {
      const sim = await attackRun({
        task,
        rule: DEFAULT_RULE,
        attack,
        rounds,
        seed: options.seed,
        scoring: 'v2',
      })
      const s = summarize(attack, DEFAULT_RULE, sim, cleanOf.get(DEFAULT_RULE)!, 'v2')
      before.push(s)
      options.log(
        `robustness ${DEFAULT_RULE} / ${attack} (scoring v2): attackers accepted ${s.attackersAccepted}/${s.attackerTotal}, attacker credit ${pct(s.attackerCreditShare)}`,
      )
    }

  // Trained to convergence (validation loss ≈ 1e-4): the regime of the issue's rejected honest work.
  const convergedRounds = q ? 20 : 30
  const converged: ConvergedSummary[] = []
  const convergedCos = { same: [] as number[], previous: [] as number[] }
  for (const scoring of ['v1', 'v2', 'v3'] as const) {
    const collect = cosineCollector(3)
    const c = await convergedRun({
      scoring,
      attack: 'none',
      rounds: convergedRounds,
      seed: options.seed,
      onUpdates: collect.onUpdates,
    })
    if (scoring === SCORING_DEFAULT) {
      convergedCos.same.push(...collect.same)
      convergedCos.previous.push(...collect.previous)
    }
    converged.push(c)
    options.log(
      `robustness converged clean (${scoring}): honest rejected ${c.honestRejected}/${c.honestTotal}`,
    )
  }
  for (const attack of (q
    ? ['sign-flip', 'noise']
    : ['sign-flip', 'noise', 'label-flip']) as Attack[]) {
    const c = await convergedRun({
      scoring: SCORING_DEFAULT,
      attack,
      rounds: convergedRounds,
      seed: options.seed,
    })
    converged.push(c)
    options.log(
      `robustness converged ${attack} (${SCORING_DEFAULT}): attackers accepted ${c.attackersAccepted}/${c.attackerTotal}`,
    )
  }

  const of = (rule: Rule) => runs.filter((r) => r.rule === rule)
  const def = of(DEFAULT_RULE)
  const attacked = def.filter((r) => r.attack !== 'none')
  const worstLoss = attacked.reduce((a, r) => (r.vsClean > a.vsClean ? r : a), attacked[0]!)
  const riders = def.filter((r) => FREE_RIDERS.includes(r.attack))
  const worstRider = riders.reduce(
    (a, r) => (r.attackerCreditShare > a.attackerCreditShare ? r : a),
    riders[0]!,
  )
  const cleanRuns = [...runs.filter((r) => r.attack === 'none' && r.rule !== 'undefended')]
  const cleanConverged = converged.filter(
    (c) => c.attack === 'none' && c.scoring === SCORING_DEFAULT,
  )
  const cleanRejected =
    cleanRuns.reduce((a, r) => a + r.honestRejected, 0) +
    cleanConverged.reduce((a, c) => a + c.honestRejected, 0)
  const cleanTotal =
    cleanRuns.reduce((a, r) => a + r.honestTotal, 0) +
    cleanConverged.reduce((a, c) => a + c.honestTotal, 0)
  const toRejected = runs.reduce((a, r) => a + r.creditsToRejected, 0)
  const alie = def.find((r) => r.attack === 'alie')
  const alieBefore = before.find((r) => r.attack === 'alie')
  const honestCos = brief([...cos.same, ...convergedCos.same])
  const copierCos = brief(attackerCos['perturbed-copy'] ?? [])
  const honestSpread = brief(Object.values(spreads).flatMap((s) => s.honest))
  const targets: TargetCheck[] = [
    {
      name: 'loss under attack (default rule)',
      target: '≤ 1.05× the clean loss under every attack',
      measured: `worst ${worstLoss.vsClean.toFixed(3)}× (${worstLoss.attack})`,
      met: attacked.every((r) => r.vsClean <= 1.05),
    },
    {
      name: 'no credit to rejected updates',
      target: '0 credits granted to rejected contributions (every run)',
      measured: `${toRejected}`,
      met: toRejected === 0,
    },
    {
      name: 'free-riders and copiers',
      target: '< 5 % of an honest contributor’s credits (default rule)',
      measured: `worst ${pct(worstRider.attackerCreditShare)} (${worstRider.attack})`,
      met: riders.every((r) => r.attackerCreditShare < 0.05),
    },
    ...(alie
      ? [
          {
            name: 'ALIE credit (scoring v3)',
            target: '< 50 % of an honest contributor’s credits (default rule)',
            measured: pct(alie.attackerCreditShare),
            met: alie.attackerCreditShare < 0.5,
          },
        ]
      : []),
    {
      // 1 − cosine is the rule's own scale: noise of relative size ρ costs ≈ ρ²/2 of it.
      name: 'near-duplicate margin',
      target: `every honest pair’s 1 − cosine ≥ 2 × the threshold’s (${(2 * (1 - NEAR_DUPLICATE_COSINE)).toFixed(3)})`,
      measured: `honest max cosine ${honestCos.max.toFixed(3)} (1 − cosine ${(1 - honestCos.max).toFixed(3)}; p99 ${honestCos.p99.toFixed(3)}, ${honestCos.n} pairs)${copierCos.n ? `; perturbed copiers min ${copierCos.min.toFixed(4)}` : ''}`,
      met: 1 - honestCos.max >= 2 * (1 - NEAR_DUPLICATE_COSINE),
    },
    ...(alie && alieBefore
      ? [
          {
            name: 'honest credit under ALIE (scoring v3 vs v2)',
            target: 'not lowered by v3 (≥ 0.98× v2’s per honest contributor)',
            measured: `${(alie.honestCredit / alieBefore.honestCredit).toFixed(3)}×`,
            met: alie.honestCredit >= 0.98 * alieBefore.honestCredit,
          },
        ]
      : []),
    {
      name: 'honest rejected in clean runs',
      target: '0 (every rule, and trained to convergence with the default scoring)',
      measured: `${cleanRejected} of ${cleanTotal}`,
      met: cleanRejected === 0,
    },
  ]
  const plots: Plot[] = [
    {
      file: 'robustness-default-rule',
      title: `Held-out loss per round, ${DEFAULT_RULE}, 2 of 8 contributors attacking`,
      xLabel: 'round',
      yLabel: 'held-out loss',
      series: def.map((r) => ({
        label: r.attack,
        x: r.heldOut.map((_, i) => i + 1),
        y: r.heldOut,
      })),
    },
  ]
  return {
    name: 'robustness',
    title: `Robustness: 25 % attackers against every aggregation rule (host screening, scoring ${SCORING_DEFAULT})`,
    table: {
      columns: [
        'attack',
        'rule',
        'final loss',
        '× clean',
        'honest rejected',
        'attackers accepted',
        'attacker credit / honest',
        'rejections',
      ],
      rows: [
        ...runs.map((r) => [
          r.attack,
          r.rule,
          Number.isFinite(r.finalLoss) ? Number(r.finalLoss.toFixed(4)) : 'diverged',
          Number.isFinite(r.vsClean) ? Number(r.vsClean.toFixed(3)) : null,
          r.rule === 'undefended' ? null : `${r.honestRejected}/${r.honestTotal}`,
          r.rule === 'undefended' ? null : `${r.attackersAccepted}/${r.attackerTotal}`,
          r.rule === 'undefended' ? null : pct(r.attackerCreditShare),
          Object.entries(r.rejectedReasons)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ]),
        ...converged.map((c) => [
          `${c.attack} (converged, scoring ${c.scoring})`,
          DEFAULT_RULE,
          Number(c.finalValidationLoss.toExponential(2)),
          null,
          `${c.honestRejected}/${c.honestTotal}`,
          c.attackerTotal ? `${c.attackersAccepted}/${c.attackerTotal}` : null,
          c.attackerTotal ? pct(c.attackerCreditShare) : null,
          [
            c.emptyRounds ? `${c.emptyRounds} rounds accepted nothing` : '',
            `honest credit ${c.honestCredit.toFixed(3)} each`,
            c.honestSpreadMin !== undefined
              ? `honest spread ≥ ${c.honestSpreadMin.toFixed(2)}`
              : '',
          ]
            .filter(Boolean)
            .join(', '),
        ]),
        ...before.map((r) => [
          `${r.attack} (scoring v2)`,
          r.rule,
          Number(r.finalLoss.toFixed(4)),
          Number(r.vsClean.toFixed(3)),
          `${r.honestRejected}/${r.honestTotal}`,
          `${r.attackersAccepted}/${r.attackerTotal}`,
          pct(r.attackerCreditShare),
          Object.entries(r.rejectedReasons)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ]),
      ],
    },
    targets,
    plots,
    details: {
      task: task.name,
      contributors: CONTRIBUTORS,
      attackers: ATTACKERS,
      rounds,
      innerSteps: H,
      batchSize: B,
      alieZ: alieZ(CONTRIBUTORS, ATTACKERS),
      scoring: SCORING_DEFAULT,
      nearDuplicateCosine: NEAR_DUPLICATE_COSINE,
      spreadFloor: SPREAD_FLOOR,
      spreadFull: SPREAD_FULL,
      perturbation: PERTURBATION,
      cosines: {
        honestSameRound: brief(cos.same),
        honestPreviousRound: brief(cos.previous),
        convergedHonestSameRound: brief(convergedCos.same),
        convergedHonestPreviousRound: brief(convergedCos.previous),
        attackerToHonestMax: Object.fromEntries(
          Object.entries(attackerCos).map(([k, v]) => [k, brief(v)]),
        ),
      },
      spreads: {
        honest: honestSpread,
        ...Object.fromEntries(
          Object.entries(spreads)
            .filter(([k]) => k !== 'none')
            .map(([k, v]) => [k, brief(v.attackers)]),
        ),
      },
      runs,
      before,
      converged,
    },
    notes: [
      `In-process: ${CONTRIBUTORS} contributors (${ATTACKERS} attacking every round) train ${task.name === 'mnist' ? 'a 784-32-10 MLP on MNIST (10,000 test images shuffled once: 8,000 split among them, 512 as the host’s validation batch, the rest held out)' : 'a 16-32-4 MLP on generated Gaussian clusters (MNIST not found)'} with the engine’s inner loop (H = ${H}, batch ${B}); updates are int8-encoded and every round is closed by computeRound, the host’s own close (screening, harmful check, rule, outer Nesterov step, quality, credits), with scoring ${SCORING_DEFAULT}. The network is left out (no figure here depends on it).`,
      `Attacks: sign flip = own update × −10; noise = Gaussian of 9× the honest median norm (under the 10× norm screen); ALIE = honest mean − z·std with the published z = ${alieZ(CONTRIBUTORS, ATTACKERS).toFixed(3)} for n = ${CONTRIBUTORS}, f = ${ATTACKERS}; IPM = −0.5 × honest mean; label flip = trains on y → 9 − y; zeros; tiny = noise of 1/1000 of the honest median norm; replay = the bytes of an honest update of the previous round; copy = the bytes of an honest update of this round, offered after it. Omniscient attackers see this round’s honest updates.`,
      '“undefended” = the plain mean of every update with no screening and no scoring: the baseline that shows what an attack does.',
      'Attacker credit / honest = credits per attacker over credits per honest contributor over the whole run.',
      `Converged rows: 3 honest contributors (+1 attacker) on separable clusters until the validation loss is ≈ 1e-4, with the legacy relative harmful test (scoring v1) and the paired test (v2).`,
      `Perturbed copy = an honest update of this round ×1.02 plus Gaussian noise of ${PERTURBATION} × its norm (cosine ≈ 0.995 with it): scoring v3 rejects it as near-duplicate (cosine ≥ ${NEAR_DUPLICATE_COSINE} with an earlier standing update). Honest pairs of one round, over every default-rule run and the converged clean run: cosine max ${honestCos.max.toFixed(3)}, p99 ${honestCos.p99.toFixed(3)} (${honestCos.n} pairs; details.cosines).`,
      `Scoring v3 also scales quality by independence: an update’s distance to the mean of the other accepted updates over the round’s median (spread; honest min ${honestSpread.min.toFixed(2)}, median ${honestSpread.p50.toFixed(2)}), 0 at ≤ ${SPREAD_FLOOR} and full from ${SPREAD_FULL}. ALIE sits at the others’ mean − z·std, far closer than independent work lands. Rows “(scoring v2)” are the same attacks under the rule before v3.`,
    ],
  }
}

standalone(import.meta.url, 'robustness', run)
