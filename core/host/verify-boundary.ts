/**
 * Verify's side of dataset and model amendments (docs/governance.md, "Dataset and model
 * amendments"): the check that what a host enacted at a boundary is what passed (the datasets
 * rounds are replayed on are host-datasets.ts's). A model amendment's round must open on exactly
 * the checkpoint the proposal implies (the new model initialised from its seed) with zero outer momentum; a dataset
 * amendment that pinned its content must find a dataset with that content. Anything else is
 * VERIFY_UNAPPROVED_CHANGE in the round it took effect. Whether the amendment passed at all is
 * verifyGovernance's question (verify-governance.ts).
 */
import { isTandemError, type ErrorCode } from '../api/errors.js'
import { checkpointContentHash } from '../engine/checkpoint.js'
import type { LedgerState } from '../ledger/reader.js'
import { boundaryMomentum, boundaryWeights } from '../ledger/swap-changes.js'
import type { HostDatasets } from './host-datasets.js'

export interface BoundaryProblem {
  code: ErrorCode
  message: string
}

/**
 * The problems of each round where an amendment swapped the dataset or the model: the round's
 * starting checkpoint and outer-state against the approved model's seed, a pinned dataset's content.
 */
export async function verifyBoundaries(
  state: LedgerState,
  datasets: HostDatasets,
): Promise<Map<number, BoundaryProblem[]>> {
  const out = new Map<number, BoundaryProblem[]>()
  const add = (round: number, code: ErrorCode, message: string) =>
    out.set(round, [...(out.get(round) ?? []), { code, message }])
  const byIndex = new Map((state.governance?.proposals ?? []).map((p) => [p.index, p]))
  for (const rec of state.rounds) {
    for (const index of rec.enacted ?? []) {
      const change = byIndex.get(index)?.value.change
      const r = rec.round
      if (change?.kind === 'model') {
        const weights = boundaryWeights(change)
        const want = checkpointContentHash(change.model, r, weights)
        const outer = checkpointContentHash(change.model, r, boundaryMomentum(weights))
        if (rec.checkpoint.contentHash !== want)
          add(
            r,
            'VERIFY_UNAPPROVED_CHANGE',
            `round ${r} starts the new model of proposal ${index} from checkpoint ${rec.checkpoint.contentHash.slice(0, 12)}…; the proposal approved seed ${change.init.seed}, checkpoint ${want.slice(0, 12)}…`,
          )
        if (rec.outerState?.contentHash !== outer)
          add(
            r,
            'VERIFY_UNAPPROVED_CHANGE',
            `round ${r} starts the new model of proposal ${index} with outer momentum other than zero`,
          )
      } else if (change?.kind === 'dataset' && change.dataset.contentHash !== undefined) {
        try {
          const ds = await datasets.dataset(change.dataset.key)
          if (ds.header.contentHash !== change.dataset.contentHash)
            add(
              r,
              'VERIFY_UNAPPROVED_CHANGE',
              `round ${r} trains on dataset ${change.dataset.key.slice(0, 12)}…, whose content is not what proposal ${index} pinned`,
            )
        } catch (err) {
          if (!isTandemError(err)) throw err
          add(r, err.code, `round ${r}: the dataset of proposal ${index}: ${err.message}`)
        }
      }
    }
  }
  return out
}
