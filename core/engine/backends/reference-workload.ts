/**
 * The model `auto` measures when there is no project's model to measure yet (pre-flight, `tandem
 * doctor`): the MLP 784-256-10 at batch 256, the benchmark's own (test/bench/engine.ts).
 */
import { parseSpec } from '../spec/parse.js'
import type { ModelSpec } from '../spec/schema.js'

export const REFERENCE_BATCH = 256

export function referenceSpec(): ModelSpec {
  return parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
}
