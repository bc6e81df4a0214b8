/**
 * One-step-delay overlap (recipe.outer.overlap = 'one-step-delay', docs/eval-design.md): a
 * contributor that has offered its round-(r−1) update trains round r from checkpoint r − 1 at once,
 * instead of waiting for checkpoint r. Its update then names checkpoint r − 1 in its header
 * (checkpointHash), and the host re-bases it onto checkpoint r before screening, scoring and
 * aggregating it like any other:
 *
 *   Δ = θ_start − θ_local (core/engine/optim/nesterov.ts: start minus end)
 *   Δ' = θ_{r} − θ_local = Δ − (θ_{r−1} − θ_{r})
 *
 * so "applied alone" (θ_r − Δ') is still the contributor's own end weights, and the aggregate is
 * over updates relative to checkpoint r. An update trained from anything older is rejected
 * 'stale-base'. Pure functions of the update header and the ledger's checkpoints: the host
 * (round.ts via round-loop.ts) and `tandem verify` (verify.ts) both call them, and the receipt
 * records each update's base round (Contribution.baseRound), which verify compares with the base
 * the contributor's signed update header names.
 */
import { TandemError } from '../api/errors.js'
import type { LedgerState } from '../ledger/reader.js'

/** The checkpoints an update of round `round` may start from, with checkpoint r − 1's weights. */
export interface RoundBases {
  round: number
  /** Hex content hash of checkpoint `round`. */
  current: string
  /** Checkpoint `round` − 1 (null in round 0). */
  previous: { hash: string; weights: Float32Array } | null
}

/**
 * The round whose checkpoint an update started from: `round` for checkpoint r, `round` − 1 for
 * checkpoint r − 1, null for anything else (older, or no checkpoint of this ledger).
 */
export function baseRound(checkpointHash: string | undefined, bases: RoundBases): number | null {
  if (checkpointHash === undefined) return null
  if (checkpointHash === bases.current) return bases.round
  if (bases.previous && checkpointHash === bases.previous.hash) return bases.round - 1
  return null
}

/**
 * Δ re-based from checkpoint `previous` onto checkpoint `current`: Δ − (previous − current), each
 * coordinate computed in float64 and rounded to float32 once (the same bits on every machine).
 */
export function rebaseDelta(
  delta: Float32Array,
  previous: Float32Array,
  current: Float32Array,
): Float32Array {
  if (delta.length !== previous.length || delta.length !== current.length)
    throw new TandemError(
      'SPEC_MISMATCH',
      `rebase: Δ has ${delta.length} values, the checkpoints ${previous.length} and ${current.length}`,
    )
  const out = new Float32Array(delta.length)
  for (let i = 0; i < delta.length; i++) out[i] = delta[i]! - (previous[i]! - current[i]!)
  return out
}

/**
 * Round `round`'s bases from a ledger: checkpoint r's hash, and checkpoint r − 1's hash and
 * weights (read with `weightsOf`, which the host and the verifier each read their own way).
 */
export async function roundBases(
  state: LedgerState,
  round: number,
  weightsOf: (round: number) => Promise<Float32Array>,
): Promise<RoundBases> {
  const current = state.rounds[round]?.checkpoint.contentHash
  if (!current) throw new TandemError('NOT_FOUND', `the ledger has no checkpoint ${round}`)
  const prev = round > 0 ? state.rounds[round - 1]!.checkpoint.contentHash : null
  return {
    round,
    current,
    previous: prev === null ? null : { hash: prev, weights: await weightsOf(round - 1) },
  }
}
