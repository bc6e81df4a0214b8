/**
 * The convergence experiment's DiLoCo harness (test/eval/support/training-runs.ts): with one worker,
 * plain mean, no compression and an outer step of lr 1 without momentum, each round's new global
 * weights are exactly the worker's local weights, so DiLoCo with `keepMoments` must follow the same
 * trajectory as one continuous AdamW run; with a fresh AdamW each round it must not.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import { DEFAULT_ADAMW } from '../../../core/engine/optim/adamw.js'
import { continuousRun, dilocoRun } from '../../eval/support/training-runs.js'
import { syntheticBatch, tinyMlp } from '../../support/engine-fixtures.js'

const spec = tinyMlp()
const stream = () => {
  let i = 0
  return () => syntheticBatch(spec, 8, 1000 + i++)
}
const common = {
  spec,
  initial: initialWeights(spec, 3),
  schedule: { peakLr: 1e-2, warmupSteps: 2, totalSteps: 20, minLrRatio: 0.1 },
  adamw: DEFAULT_ADAMW,
  validation: syntheticBatch(spec, 32, 7),
  linkBytesPerSec: 1e6,
}
const diloco = (keepMoments: boolean) =>
  dilocoRun('diloco', {
    ...common,
    workers: 1,
    innerSteps: 5,
    rounds: 4,
    streams: [stream()],
    compression: { method: 'f32' },
    aggregation: { rule: 'mean' },
    outer: { lr: 1, momentum: 0 },
    evalEveryRounds: 1,
    keepMoments,
  })

describe('eval harness: DiLoCo with kept AdamW moments', () => {
  it('one worker, plain averaging: keepMoments follows the continuous run, a fresh AdamW does not', async () => {
    await selectBackend('cpu')
    const continuous = await continuousRun('continuous', {
      ...common,
      steps: 20,
      nextBatch: stream(),
      evalEvery: 5,
    })
    const kept = await diloco(true)
    const fresh = await diloco(false)
    const losses = (r: { points: { loss: number }[] }) => r.points.map((p) => p.loss)
    assert.equal(kept.points.length, continuous.points.length)
    for (const [i, loss] of losses(kept).entries()) {
      const want = losses(continuous)[i] as number
      assert.ok(
        Math.abs(loss - want) <= 1e-5 * want,
        `eval ${i}: kept ${loss} vs continuous ${want}`,
      )
    }
    const apart = Math.abs(fresh.finalLoss - continuous.finalLoss)
    assert.ok(
      apart > 1e-4,
      `a fresh AdamW each round ended at ${fresh.finalLoss}, continuous ${continuous.finalLoss}`,
    )
  })
})
