/**
 * The project manifest: block 0 of a project's ledger core, so the project key (the ledger key)
 * commits to it. Everything a contributor needs to decide whether to join, and everything a
 * verifier needs to replay the run, is here; nothing in it is executable.
 */
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import { DEFAULT_COMPRESSION } from '../engine/compress/error-feedback.js'
import { parseSpec } from '../engine/spec/parse.js'
import type { ModelSpec } from '../engine/spec/schema.js'
import { Charter } from './charter.js'

/**
 * 2 added the optional `charter` (charter.ts). Version 1 manifests still read: they have no charter
 * ("no charter" in lists, the default governance policy).
 */
export const MANIFEST_VERSION = 2
export const MANIFEST_VERSIONS = [1, 2] as const
export type ManifestVersion = (typeof MANIFEST_VERSIONS)[number]
export const MAX_MANIFEST_BYTES = 32 * 1024

const Hex32 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a 32-byte key)')
const Prob = z.number().min(0).max(1)

/** recipe.outer.overlap (docs/eval-design.md, "One-step-delay overlap"); absent = 'none'. */
export const Overlap = z.enum(['none', 'one-step-delay'])
export type Overlap = z.infer<typeof Overlap>

export const Recipe = z
  .object({
    /** H: inner steps per round. */
    innerSteps: z.number().int().min(1).max(100_000),
    batchSize: z.number().int().min(1).max(65_536),
    inner: z
      .object({
        peakLr: z.number().positive().max(1),
        warmupSteps: z.number().int().min(0),
        totalSteps: z.number().int().min(1),
        minLrRatio: Prob,
        beta1: Prob.default(0.9),
        beta2: Prob.default(0.95),
        eps: z.number().positive().max(1).default(1e-8),
        weightDecay: z.number().min(0).max(1).default(0.1),
        clipNorm: z.number().min(0).default(1),
        /**
         * Re-warmup of every round's inner lr over its first steps (the AdamW moments start at
         * zero each round: docs/engine.md, "Re-warmup"). Absent: none, as recipes before the
         * field; createManifest fills in REWARMUP_DEFAULT for new projects.
         */
        rewarmupSteps: z.number().int().min(0).max(100_000).optional(),
      })
      .strict(),
    outer: z
      .object({
        lr: z.number().positive().max(10).default(0.7),
        momentum: z.number().min(0).max(0.999).default(0.9),
        /**
         * 'one-step-delay' (DiLoCoX): a contributor that has offered its round-r update trains
         * round r+1 from checkpoint r at once, and the host re-bases such an update onto
         * checkpoint r+1 (core/host/rebase.ts). Absent: 'none', as every ledger before the field.
         */
        overlap: Overlap.optional(),
      })
      .strict(),
    roundDeadlineSec: z
      .number()
      .int()
      .min(5)
      .max(7 * 86_400),
    minUpdates: z.number().int().min(1).max(10_000),
    maxUpdates: z.number().int().min(1).max(10_000),
    compression: z
      .discriminatedUnion('method', [
        z
          .object({
            method: z.literal('int8'),
            blockSize: z.number().int().min(16).max(65_536).default(256),
          })
          .strict(),
        z.object({ method: z.literal('topk'), fraction: z.number().gt(0).max(1) }).strict(),
        z.object({ method: z.literal('f32') }).strict(),
      ])
      .default(DEFAULT_COMPRESSION),
    /**
     * Compressed outer updates (docs/ledger.md, "Outer updates"): each round's close publishes
     * U_r = C(θ′ − θ_r + e_r) with `compression` and the host's residual, checkpoint r+1 is defined
     * as θ_r + D(U_r), and a full checkpoint file is written only for rounds that are multiples
     * of `fullCheckpointEvery` (and round 0). Absent: every round's checkpoint is written in full,
     * as in ledgers before the field. Older readers refuse a recipe with it (strict schema).
     */
    outerUpdates: z
      .object({ fullCheckpointEvery: z.number().int().min(1).max(100_000) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((r) => r.minUpdates <= r.maxUpdates, {
    message: 'minUpdates must not exceed maxUpdates',
    path: ['minUpdates'],
  })

export const AggregationRule = z.enum([
  'centered-clip',
  'mean',
  'median',
  'trimmed-mean',
  'multi-krum',
])

/**
 * How the host scores and screens updates (core/host/scoring.ts, verdicts.ts). Versioned because a
 * verifier must replay old rounds with the rule they were judged by: a manifest without the field
 * is 'v1' (the rule every ledger before it used), new projects get SCORING_DEFAULT.
 *   v1  harmful: validation loss of the update applied alone > 1.1 × before (relative only);
 *       quality's loss term from the relative change.
 *   v2  harmful: worse by more than 10 % of the loss AND by more than 3 standard errors of the
 *       per-record loss differences (a paired test on the validation batch); quality's loss term
 *       counts only the change beyond that noise; an update under 1/maxNormRatio of the median
 *       norm (zeros, tiny updates) is a norm outlier. docs/aggregation.md, "Harmful updates".
 *   v3  v2, plus: an update whose direction is within NEAR_DUPLICATE_COSINE of an earlier standing
 *       update of the round is a `near-duplicate` (a perturbed copy); quality is scaled by the
 *       update's independence (its distance to the mean of the others against the round's
 *       median: ALIE-like updates built from the others earn little). docs/aggregation.md,
 *       "Copies and consensus-followers".
 */
export const ScoringVersion = z.enum(['v1', 'v2', 'v3'])
export type ScoringVersion = z.infer<typeof ScoringVersion>
export const SCORING_DEFAULT: ScoringVersion = 'v3'
/** recipe.inner.rewarmupSteps of new projects (capped at innerSteps): docs/engine.md, "Re-warmup". */
export const REWARMUP_DEFAULT = 3

export const ProjectSpec = z
  .object({
    name: z.string().min(1).max(80),
    description: z.string().max(4000).default(''),
    model: z.unknown(),
    dataset: z.object({ key: Hex32 }).strict(),
    recipe: Recipe,
    aggregation: z
      .object({
        rule: AggregationRule.default('centered-clip'),
        /** Absent: 'v1' (ledgers written before the field existed). createManifest fills it in. */
        scoring: ScoringVersion.optional(),
      })
      .strict()
      .default({ rule: 'centered-clip' }),
    credits: z
      .object({
        qualityFloor: Prob.default(0),
        halfLifeDays: z.number().positive().max(365).default(7),
        // Both keep every reputation above 0: a round whose accepted updates all weigh 0 could
        // not be aggregated (AGGREGATE_BAD_WEIGHT) and would stall the project.
        reputationRate: z.number().min(0).lt(1).default(0.2),
        initialReputation: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .default({ qualityFloor: 0, halfLifeDays: 7, reputationRate: 0.2, initialReputation: 0.5 }),
    /** Seed of the round-0 weights, so anyone can recompute checkpoint 0. */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** Purpose, terms, data, accountable host and governance policy (docs/governance.md). */
    charter: Charter.optional(),
  })
  .strict()

export type ProjectSpec = Omit<z.infer<typeof ProjectSpec>, 'model'> & { model: ModelSpec }

export interface Manifest extends ProjectSpec {
  version: ManifestVersion
  /** Hex public key of the host that writes the ledger. */
  host: string
  createdAt: number
}

/** Validates a project spec (from a file or a peer): coded errors, model checked by the engine's rules. */
export function parseProjectSpec(value: unknown): ProjectSpec {
  const parsed = ProjectSpec.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const at = issue?.path.length ? issue.path.join('.') : '(root)'
    throw new TandemError(
      'PROJECT_INVALID',
      `Invalid project spec at ${at}: ${issue?.message ?? 'invalid'}`,
    )
  }
  return { ...parsed.data, model: parseSpec(parsed.data.model) }
}

/**
 * A spec file's text as a plain JSON object (size-capped, parsed), before the schema: callers such
 * as `project host --dataset` fill fields in first.
 */
export function readProjectSpecObject(text: string): Record<string, unknown> {
  if (new TextEncoder().encode(text).byteLength > MAX_MANIFEST_BYTES) {
    throw new TandemError(
      'PROJECT_INVALID',
      `Project spec is larger than ${MAX_MANIFEST_BYTES} bytes`,
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new TandemError(
      'PROJECT_INVALID',
      `Project spec is not valid JSON: ${(err as Error).message}`,
    )
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TandemError('PROJECT_INVALID', 'Project spec is not a JSON object')
  return value as Record<string, unknown>
}

export function parseProjectSpecJson(text: string): ProjectSpec {
  return parseProjectSpec(readProjectSpecObject(text))
}

export function createManifest(spec: ProjectSpec, hostKeyHex: string, now = Date.now()): Manifest {
  if (!/^[0-9a-f]{64}$/.test(hostKeyHex))
    throw new TandemError('BAD_ARGUMENT', 'host key must be 64 hex characters')
  const aggregation = { ...spec.aggregation, scoring: spec.aggregation.scoring ?? SCORING_DEFAULT }
  const { recipe } = spec
  const inner = {
    ...recipe.inner,
    rewarmupSteps: recipe.inner.rewarmupSteps ?? Math.min(REWARMUP_DEFAULT, recipe.innerSteps),
  }
  return {
    version: MANIFEST_VERSION,
    ...spec,
    recipe: { ...recipe, inner },
    aggregation,
    host: hostKeyHex,
    createdAt: now,
  }
}

/** The scoring rule a manifest names: absent is 'v1', the rule of ledgers older than the field. */
export function scoringVersion(manifest: Pick<Manifest, 'aggregation'>): ScoringVersion {
  return manifest.aggregation.scoring ?? 'v1'
}

/** The overlap mode a manifest names: absent is 'none' (ledgers older than the field). */
export function overlapMode(manifest: Pick<Manifest, 'recipe'>): Overlap {
  return manifest.recipe.outer.overlap ?? 'none'
}

/** Reads block 0 of a ledger: the same checks as a spec, plus version and host. */
export function parseManifest(value: unknown): Manifest {
  if (value === null || typeof value !== 'object')
    throw new TandemError('PROJECT_INVALID', 'Manifest is not an object')
  const { version, host, createdAt, ...rest } = value as Record<string, unknown>
  if (!MANIFEST_VERSIONS.includes(version as ManifestVersion))
    throw new TandemError('PROJECT_INVALID', `Unsupported manifest version ${String(version)}`)
  if (version === 1 && 'charter' in rest)
    throw new TandemError('PROJECT_INVALID', 'A version 1 manifest has no charter')
  if (typeof host !== 'string' || !/^[0-9a-f]{64}$/.test(host))
    throw new TandemError('PROJECT_INVALID', 'Manifest host key is invalid')
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt))
    throw new TandemError('PROJECT_INVALID', 'Manifest createdAt is invalid')
  return { version: version as ManifestVersion, ...parseProjectSpec(rest), host, createdAt }
}

/** Samples one contributor trains each round: H inner steps of one batch (what the host credits). */
export function roundSamples(manifest: Pick<Manifest, 'recipe'>): number {
  return manifest.recipe.innerSteps * manifest.recipe.batchSize
}

/**
 * Whether checkpoint `round` is written in full (its file in the ledger): always without outer
 * updates, and with them for round 0 and every multiple of fullCheckpointEvery.
 */
export function fullCheckpointAt(manifest: Pick<Manifest, 'recipe'>, round: number): boolean {
  const every = manifest.recipe.outerUpdates?.fullCheckpointEvery
  return every === undefined || round % every === 0
}
