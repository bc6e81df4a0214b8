/** How many shards one round reads, and the record shape each model is fed. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Dataset } from '../../../../core/data/dataset.js'
import type { Manifest } from '../../../../core/ledger/manifest.js'
import { samplerShape, shardsNeeded } from '../../../../core/node/participant/train-round.js'

const transformer = (context: number, innerSteps: number, batchSize: number) =>
  ({
    model: { type: 'transformer', context },
    recipe: { innerSteps, batchSize },
  }) as unknown as Manifest

const dataset = (kind: 'tokens' | 'tensor', shardRecords: number, trainingShards: number) =>
  ({ header: { layout: { kind }, shardRecords }, trainingShards }) as unknown as Dataset

describe('training one round', () => {
  it("reads just enough shards for the round's samples, at least one, at most all", () => {
    // 1,000 tokens a shard hold 1000 / (99 + 1) = 10 sequences of 99 + 1 tokens.
    assert.equal(shardsNeeded(transformer(99, 4, 8), dataset('tokens', 1000, 50)), 4)
    assert.equal(shardsNeeded(transformer(99, 1, 1), dataset('tokens', 1000, 50)), 1)
    assert.equal(shardsNeeded(transformer(99, 100, 100), dataset('tokens', 1000, 50)), 50)
    // A shard smaller than one sequence: every shard.
    assert.equal(shardsNeeded(transformer(99, 1, 1), dataset('tokens', 50, 7)), 7)
    // Tensor records: one record a sample.
    const mlp = {
      model: { type: 'mlp', inputSize: 4 },
      recipe: { innerSteps: 3, batchSize: 10 },
    } as unknown as Manifest
    assert.equal(shardsNeeded(mlp, dataset('tensor', 16, 9)), 2)
  })

  it('feeds each model the record shape it takes', () => {
    assert.deepEqual(samplerShape(transformer(64, 1, 1)), { seqLen: 64 })
    const cnn = {
      model: { type: 'cnn', input: { height: 28, width: 28, channels: 1 } },
    } as unknown as Manifest
    assert.deepEqual(samplerShape(cnn), { shape: [28, 28, 1] })
    assert.deepEqual(
      samplerShape({ model: { type: 'mlp', inputSize: 4 } } as unknown as Manifest),
      {
        shape: [4],
      },
    )
  })
})
