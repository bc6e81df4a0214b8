/**
 * What a round trains on follows the manifest in effect in it (docs/governance.md, "Dataset and
 * model amendments"): when a dataset amendment names another dataset, the participant opens that
 * one (waiting for peers like the first) and closes the old; when a model amendment changes the
 * model, the error-feedback residual of the old model's size is dropped (it has nothing to carry
 * into another parameter vector).
 */
import type { Dataset } from '../../data/dataset.js'
import { parameterCount } from '../../host/round.js'
import type { Manifest } from '../../ledger/manifest.js'
import type { Running } from './running.js'

/** Fits `running` to a round of `manifest`; returns the dataset the round trains on. */
export async function roundInputs(
  running: Running,
  manifest: Manifest,
  onWarning: (err: unknown) => void,
): Promise<Dataset> {
  const n = parameterCount(manifest)
  if (running.feedback && running.feedback.residual.length !== n) running.feedback = null
  const key = manifest.dataset.key
  if (running.dataset.keyHex === key) return running.dataset
  const next = await running.openDataset(key)
  const old = running.dataset
  running.dataset = next
  running.diskCap = null // it caches the old dataset's shards
  await old.close().catch(onWarning)
  return next
}
