import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkpointContentHash,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../../core/engine/checkpoint.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import { paramLayout } from '../../../core/engine/model/layout.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { specHash } from '../../../core/engine/spec/hash.js'
import { tinyTransformer } from '../../support/engine-fixtures.js'

describe('checkpoint format', () => {
  const spec = tinyTransformer()
  const weights = initialWeights(spec, 7)

  it('round-trips weights, round, shapes and spec hash', () => {
    const bytes = encodeCheckpoint(spec, 12, weights)
    const ck = decodeCheckpoint(bytes, spec)
    assert.equal(ck.round, 12)
    assert.equal(ck.specHash, specHash(spec))
    assert.deepEqual(
      ck.shapes,
      paramLayout(spec).map((p) => p.shape),
    )
    assert.deepEqual(ck.weights, weights)
    assert.match(ck.contentHash, /^[0-9a-f]{64}$/)
    assert.equal(decodeCheckpoint(encodeCheckpoint(spec, 12, weights)).contentHash, ck.contentHash)
  })

  it('checkpointContentHash is the hash the file decodes to, and names round and values', () => {
    const ck = decodeCheckpoint(encodeCheckpoint(spec, 12, weights), spec)
    assert.equal(checkpointContentHash(spec, 12, weights), ck.contentHash)
    assert.notEqual(checkpointContentHash(spec, 13, weights), ck.contentHash)
    const other = Float32Array.from(weights)
    other[0]! += 1
    assert.notEqual(checkpointContentHash(spec, 12, other), ck.contentHash)
  })

  it('detects any flipped byte and any truncation', () => {
    const bytes = encodeCheckpoint(spec, 1, weights)
    for (const at of [0, 5, 9, 20, 50, bytes.length - 40, bytes.length - 1]) {
      const bad = Uint8Array.from(bytes)
      bad[at] = (bad[at] as number) ^ 0x01
      assert.throws(() => decodeCheckpoint(bad), {
        code: at < 4 ? 'CHECKPOINT_CORRUPT' : at < 6 ? 'CHECKPOINT_VERSION' : 'CHECKPOINT_CORRUPT',
      })
    }
    for (const len of [0, 10, 44, bytes.length - 1])
      assert.throws(() => decodeCheckpoint(bytes.subarray(0, len)), { code: 'CHECKPOINT_CORRUPT' })
  })

  it('refuses a checkpoint of another model', () => {
    const other = parseSpec({
      type: 'transformer',
      vocab: 11,
      context: 6,
      dModel: 8,
      heads: 4,
      layers: 1,
      mlpRatio: 2,
    })
    assert.throws(() => decodeCheckpoint(encodeCheckpoint(spec, 1, weights), other), {
      code: 'SPEC_MISMATCH',
    })
    assert.throws(() => encodeCheckpoint(spec, 1, weights.subarray(1)), { code: 'SPEC_MISMATCH' })
  })
})
