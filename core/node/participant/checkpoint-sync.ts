/**
 * The checkpoint a round trains from. In an outer-update project (docs/ledger.md, "Outer
 * updates") a contributor that trained round r−1 still holds checkpoint r−1 and downloads only
 * outer update r−1 (≈ n bytes as int8) instead of checkpoint r (4n bytes); a newcomer, or one that
 * skipped rounds, downloads the last full checkpoint and the updates since. Either way the result
 * is checked against the ledger's hash of checkpoint r (ledger/checkpoint-chain.ts). Without outer
 * updates this is the plain checkpoint download.
 */
import type { Checkpoint } from '../../engine/checkpoint.js'
import type { HeldCheckpoint } from '../../ledger/checkpoint-chain.js'
import { readCheckpoint, type LedgerState, type ReadOptions } from '../../ledger/reader.js'
import type { Running } from './running.js'

/** Checkpoint `round`, from the one `running` holds when that reads less; then holds it. */
export async function syncCheckpoint(
  running: Pick<Running, 'ledgerCore'> & { checkpoint: HeldCheckpoint | null },
  state: LedgerState,
  round: number,
  opts: ReadOptions,
): Promise<Checkpoint> {
  const from = running.checkpoint ?? undefined
  const checkpoint = await readCheckpoint(running.ledgerCore, state, round, { ...opts, from })
  // A copy: the engine may hand the checkpoint's array to its worker thread.
  if (state.manifest.recipe.outerUpdates)
    running.checkpoint = { round, weights: Float32Array.from(checkpoint.weights) }
  return checkpoint
}
