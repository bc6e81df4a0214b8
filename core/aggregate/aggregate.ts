/**
 * The one entry point the host and the verifier call: a rule name and its parameters (as written in
 * the project manifest) applied to the round's updates. Same inputs in the same order ⇒ the same
 * bits out, whatever the chunk size.
 */
import { UpdateSet } from './chunked-updates.js'
import { centeredClip, type CenteredClipOptions } from './centered-clip.js'
import { weightedMean } from './mean.js'
import { coordinateMedian } from './median.js'
import { multiKrum, type MultiKrumOptions } from './multi-krum.js'
import { trimmedMean, type TrimmedMeanOptions } from './trimmed-mean.js'
import { badConfig, type AggregateResult, type ChunkOptions, type WeightedUpdate } from './types.js'

type RuleOptions<T> = Omit<T, keyof ChunkOptions>

export type AggregationConfig =
  | { rule: 'mean' }
  | { rule: 'median' }
  | ({ rule: 'trimmed-mean' } & RuleOptions<TrimmedMeanOptions>)
  | ({ rule: 'centered-clip' } & RuleOptions<CenteredClipOptions>)
  | ({ rule: 'multi-krum' } & RuleOptions<MultiKrumOptions>)

export const DEFAULT_AGGREGATION: AggregationConfig = { rule: 'centered-clip' }

export function aggregate(
  updates: readonly WeightedUpdate[],
  config: AggregationConfig = DEFAULT_AGGREGATION,
  options: ChunkOptions = {},
): AggregateResult {
  const rule = (config as { rule?: unknown } | null)?.rule
  const known = ['mean', 'median', 'trimmed-mean', 'centered-clip', 'multi-krum']
  if (typeof rule !== 'string' || !known.includes(rule)) badConfig(`unknown rule ${String(rule)}`)
  const set = UpdateSet.from(updates, options)
  switch (config.rule) {
    case 'mean':
      return weightedMean(set)
    case 'median':
      return coordinateMedian(set)
    case 'trimmed-mean':
      return trimmedMean(set, config)
    case 'centered-clip':
      return centeredClip(set, config)
    case 'multi-krum':
      return multiKrum(set, config)
  }
}

export type { AggregateResult, UpdateDiagnostics, WeightedUpdate } from './types.js'
export { AggregationError } from './types.js'
export { contributionWeight } from './weights.js'
