/**
 * An update's aggregation weight: the samples the host assigned to it (never the contributor's
 * claim) times the contributor's reputation (a moving average of quality, kept by the host). A
 * newcomer's starting reputation is the host's policy; zero would make its update inert.
 */
import { AggregationError } from './types.js'

export function contributionWeight(samples: number, reputation: number): number {
  if (typeof samples !== 'number' || !Number.isFinite(samples) || samples < 0)
    throw new AggregationError('AGGREGATE_BAD_WEIGHT', `samples ${samples}`)
  if (typeof reputation !== 'number' || !Number.isFinite(reputation) || reputation < 0)
    throw new AggregationError('AGGREGATE_BAD_WEIGHT', `reputation ${reputation}`)
  return samples * reputation
}
