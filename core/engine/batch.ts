/**
 * What the training engine consumes: the contract between data (core/data) and engine
 * (core/engine). Batches are plain typed arrays so they cross worker boundaries without copies.
 */

/** Language-model batch: `batch` windows of `seqLen + 1` tokens; inputs are [0, seqLen), targets [1, seqLen]. */
export interface TokenBatch {
  kind: 'tokens'
  batch: number
  seqLen: number
  /** Row-major batch × (seqLen + 1) token ids. */
  tokens: Int32Array
}

/** Classifier batch: `batch` samples of `shape` (e.g. [784] or [28, 28, 1]) with integer labels. */
export interface TensorBatch {
  kind: 'tensors'
  batch: number
  shape: number[]
  /** Row-major batch × prod(shape) features, already scaled (images to [0, 1]). */
  x: Float32Array
  /** batch class labels in [0, classes). */
  y: Int32Array
}

export type Batch = TokenBatch | TensorBatch

/**
 * Where the inner loop gets its batches. Implementations are deterministic given their seed. The
 * engine takes ownership of every batch it receives (its arrays are moved to a worker thread), so
 * each call must return fresh arrays, never views of a buffer the source keeps using.
 */
export interface DataSource {
  next(): Promise<Batch>
}
