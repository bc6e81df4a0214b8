/**
 * Verify's side of dataset and model amendments (docs/governance.md, "Dataset and model
 * amendments"): the datasets rounds are replayed on, and the check that what a host enacted at a
 * boundary is what passed. A model amendment's round must open on exactly the checkpoint the
 * proposal implies (the new model initialised from its seed) with zero outer momentum; a dataset
 * amendment that pinned its content must find a dataset with that content. Anything else is
 * VERIFY_UNAPPROVED_CHANGE in the round it took effect. Whether the amendment passed at all is
 * verifyGovernance's question (verify.ts).
 */
import type Corestore from 'corestore'
import { isTandemError, type ErrorCode } from '../api/errors.js'
import { Dataset } from '../data/dataset.js'
import type { Batch } from '../engine/batch.js'
import { decodeCheckpoint, encodeCheckpoint } from '../engine/checkpoint.js'
import type { ModelSpec } from '../engine/spec/schema.js'
import type { Manifest } from '../ledger/manifest.js'
import type { LedgerState } from '../ledger/reader.js'
import { boundaryMomentum, boundaryWeights } from '../ledger/swap-changes.js'
import { roundValidationBatch } from './validation.js'

export interface BoundaryProblem {
  code: ErrorCode
  message: string
}

/** The content hash a checkpoint file of `values` for `round` has (checkpoint.ts). */
export function checkpointFileHash(spec: ModelSpec, round: number, values: Float32Array): string {
  return decodeCheckpoint(encodeCheckpoint(spec, round, values)).contentHash
}

/**
 * The datasets a verifier replays on: the one it was given (the manifest's), and any other a
 * dataset amendment named, opened from the store (replicating with peers that hold it). Validation
 * batches are built once per dataset and model.
 */
export class VerifyDatasets {
  private readonly opened = new Map<string, Promise<Dataset>>()
  private readonly batches = new Map<string, Promise<Batch>>()

  constructor(
    private readonly base: Dataset,
    private readonly store: Corestore,
    private readonly timeoutMs: number,
  ) {}

  dataset(key: string): Promise<Dataset> {
    if (key === this.base.keyHex) return Promise.resolve(this.base)
    let d = this.opened.get(key)
    if (!d) {
      const core = this.store.get({ key: Buffer.from(key, 'hex') })
      d = Dataset.open(core, { timeoutMs: this.timeoutMs })
      this.opened.set(key, d)
    }
    return d
  }

  validation(manifest: Pick<Manifest, 'dataset' | 'model'>): Promise<Batch> {
    const id = `${manifest.dataset.key}\0${JSON.stringify(manifest.model)}`
    let b = this.batches.get(id)
    if (!b) {
      b = this.dataset(manifest.dataset.key).then((ds) =>
        roundValidationBatch(ds, manifest, { timeoutMs: this.timeoutMs }),
      )
      this.batches.set(id, b)
    }
    return b
  }

  async close(): Promise<void> {
    for (const d of this.opened.values()) await (await d.catch(() => null))?.close()
  }
}

/**
 * The problems of each round where an amendment swapped the dataset or the model: the round's
 * starting checkpoint and outer-state against the approved model's seed, a pinned dataset's content.
 */
export async function verifyBoundaries(
  state: LedgerState,
  datasets: VerifyDatasets,
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
        const want = checkpointFileHash(change.model, r, weights)
        const outer = checkpointFileHash(change.model, r, boundaryMomentum(weights))
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
