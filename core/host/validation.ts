/**
 * The batch every round is scored on. The host and any verifier must score on exactly the same
 * data without trusting each other, so it is a pure function of public inputs: the first records of
 * the project dataset's held-out validation split (core/data/validation.ts reads it in a fixed
 * order), as many as `roundValidationSize` says for the manifest's model. Nothing about it is
 * written in the ledger; changing the rule here changes what old rounds replay to, so it must stay.
 *
 * Why a fixed prefix and not a fresh sample per round: a sample needs a seed the host could pick
 * to suit itself; a prefix cannot be steered. It is small (evaluated once per candidate per round),
 * which makes it a noisy but cheap and unbiased probe; contributors never train on it.
 */
import { TandemError } from '../api/errors.js'
import type { Batch } from '../engine/batch.js'
import type { Dataset, ReadOptions } from '../data/dataset.js'
import { featureCount, vocabSize } from '../data/header.js'
import { validationBatch } from '../data/validation.js'
import type { Manifest } from '../ledger/manifest.js'

/** Records (tensor datasets) or windows of context + 1 tokens (token datasets) per round. */
export function roundValidationSize(manifest: Pick<Manifest, 'model'>): number {
  return manifest.model.type === 'transformer' ? 32 : 512
}

function mismatch(why: string): never {
  throw new TandemError('SPEC_MISMATCH', `the dataset does not fit the project's model: ${why}`)
}

/**
 * The validation batch of every round of the project: the first roundValidationSize(manifest)
 * records of `dataset`'s validation split. The dataset must be the manifest's (BAD_ARGUMENT) and fit
 * its model (SPEC_MISMATCH).
 */
export async function roundValidationBatch(
  dataset: Dataset,
  manifest: Pick<Manifest, 'model' | 'dataset'>,
  read?: ReadOptions,
): Promise<Batch> {
  if (dataset.keyHex !== manifest.dataset.key)
    throw new TandemError(
      'BAD_ARGUMENT',
      `dataset ${dataset.keyHex} is not the project's dataset ${manifest.dataset.key}`,
    )
  const spec = manifest.model
  const layout = dataset.header.layout
  const batchSize = roundValidationSize(manifest)
  if (spec.type === 'transformer') {
    if (layout.kind !== 'tokens') mismatch('a transformer needs a token dataset')
    if (vocabSize(layout) > spec.vocab)
      mismatch(`vocabulary of ${vocabSize(layout)} tokens, the model has ${spec.vocab}`)
    return validationBatch(dataset, { batchSize, seqLen: spec.context, ...(read ? { read } : {}) })
  }
  if (layout.kind !== 'tensors') mismatch(`a ${spec.type} model needs a tensor dataset`)
  const inputs =
    spec.type === 'cnn'
      ? spec.input.height * spec.input.width * spec.input.channels
      : spec.inputSize
  if (featureCount(layout) !== inputs)
    mismatch(`records of ${featureCount(layout)} features, the model takes ${inputs}`)
  if (layout.labels.classes > spec.classes)
    mismatch(`${layout.labels.classes} label classes, the model has ${spec.classes}`)
  return validationBatch(dataset, { batchSize, ...(read ? { read } : {}) })
}
