/**
 * The two amendments that swap what a project trains on or trains (docs/governance.md, "Dataset and
 * model amendments"): a new dataset core, or a new model with how its weights start. Both take
 * effect at a round boundary like every amendment; a model change also writes the new model's
 * starting checkpoint (and zero outer momentum) in the enact batch (ledger.ts, reader.ts), which
 * `tandem verify` recomputes from the proposal (host/verify-boundary.ts).
 */
import { z } from 'zod'
import { initialWeights } from '../engine/model/init.js'
import { parseSpec } from '../engine/spec/parse.js'
import type { ModelSpec } from '../engine/spec/schema.js'

const Hex32 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a 32-byte key or hash)')

/**
 * Training from round c + 1 on uses another dataset core. `key` names it as the manifest names the
 * project's dataset; `contentHash`, when given, pins its content (the header's `contentHash`, over
 * every shard's hash): the host refuses to propose a dataset whose header says otherwise, and
 * verify reports a swapped one.
 */
export const DatasetChange = z
  .object({
    kind: z.literal('dataset'),
    dataset: z.object({ key: Hex32, contentHash: Hex32.optional() }).strict(),
  })
  .strict()
export type DatasetChange = z.infer<typeof DatasetChange>

/** A model spec, checked by the engine's rules (engine/spec/parse.ts), as a zod field. */
const ModelSpecField = z.unknown().transform((value, ctx): ModelSpec => {
  try {
    return parseSpec(value)
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message })
    return z.NEVER
  }
})

/**
 * How the new model's weights start: a fresh initialisation from `seed` (initialWeights), the same
 * rule as checkpoint 0, so every voter can compute the exact weights it approves.
 */
export const ModelInit = z
  .object({ from: z.literal('seed'), seed: z.number().int().min(0).max(0xffffffff) })
  .strict()
export type ModelInit = z.infer<typeof ModelInit>

/** Training from round c + 1 on trains another model, starting from `init`. */
export const ModelChange = z
  .object({ kind: z.literal('model'), model: ModelSpecField, init: ModelInit })
  .strict()
export type ModelChange = z.infer<typeof ModelChange>

/** The weights a model change starts its first round from. */
export function boundaryWeights(change: Pick<ModelChange, 'model' | 'init'>): Float32Array {
  return initialWeights(change.model, change.init.seed)
}

/** The outer momentum entering the first round of a new model: zeros of its size. */
export function boundaryMomentum(weights: Float32Array): Float32Array {
  return new Float32Array(weights.length)
}

/** Whether `a` and `b` are the same model spec (JSON equality of the parsed specs). */
export function sameSpec(a: ModelSpec, b: ModelSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
