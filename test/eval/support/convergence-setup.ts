/**
 * The convergence experiment's setting, shared by the experiment (experiments/convergence.ts) and
 * its side runs (side/convergence-variants.ts), so both train exactly the same thing: the char LM
 * on tinyshakespeare (or the generated corpus), its model, batch, schedule, held-out batch, initial
 * weights and each worker's data stream.
 */
import { initialWeights } from '../../../core/engine/model/init.js'
import { DEFAULT_ADAMW } from '../../../core/engine/optim/adamw.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { loadCharCorpus, trainStream, validationBatch } from './char-corpus.js'

export const WORKERS = 4
/** A home connection: 20 Mbit/s each way. */
export const LINK_BYTES_PER_SEC = 20e6 / 8

export function convergenceSetup(o: { dataDir?: string; quick: boolean; seed: number }) {
  const corpus = loadCharCorpus(o.dataDir)
  const context = 16
  const spec = parseSpec({
    type: 'transformer',
    vocab: corpus.vocab,
    context,
    dModel: 32,
    heads: 4,
    layers: 2,
    mlpRatio: 4,
  })
  const batch = 16
  const stepsPerWorker = o.quick ? 160 : 800
  const schedule = {
    peakLr: 4e-3,
    warmupSteps: o.quick ? 10 : 20,
    totalSteps: stepsPerWorker,
    minLrRatio: 0.1,
  }
  const common = {
    spec,
    initial: initialWeights(spec, o.seed),
    schedule,
    adamw: DEFAULT_ADAMW,
    validation: validationBatch(corpus, o.quick ? 128 : 256, context),
    linkBytesPerSec: LINK_BYTES_PER_SEC,
  }
  const workerSeed = (w: number) => o.seed * 1000 + w
  /** Each worker's own batch stream (worker 0's is also the single worker's). */
  const streams = () =>
    Array.from({ length: WORKERS }, (_, w) => trainStream(corpus, batch, context, workerSeed(w)))
  return { corpus, context, spec, batch, stepsPerWorker, common, workerSeed, streams }
}
