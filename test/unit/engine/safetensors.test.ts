/**
 * safetensors (core/engine/safetensors.ts): the bytes follow the format (u64 LE header length, JSON
 * header with dtype/shape/data_offsets and __metadata__, raw little-endian f32), a model's weights
 * round-trip exactly, and damaged or foreign files are refused with CHECKPOINT_CORRUPT.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { initialWeights } from '../../../core/engine/model/init.js'
import {
  decodeSafetensors,
  encodeSafetensors,
  tensorsToWeights,
  weightsToTensors,
} from '../../../core/engine/safetensors.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'

const spec = parseSpec({ type: 'mlp', inputSize: 12, hidden: [8], classes: 3, activation: 'tanh' })

describe('safetensors', () => {
  it('writes the documented layout', () => {
    const data = Float32Array.of(1.5, -2, 3.25)
    const bytes = Buffer.from(encodeSafetensors([{ name: 'w', shape: [3], data }], { a: 'b' }))
    const n = Number(bytes.readBigUInt64LE(0))
    assert.equal(n % 8, 0, 'header padded to 8 bytes')
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))
    assert.deepEqual(header, {
      __metadata__: { a: 'b' },
      w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
    })
    assert.equal(bytes.length, 8 + n + 12)
    assert.equal(bytes.readFloatLE(8 + n + 4), -2)
  })

  it("round-trips a model's weights exactly, by name and shape", () => {
    const weights = initialWeights(spec, 3)
    const file = encodeSafetensors(weightsToTensors(spec, weights), { round: '7' })
    const back = decodeSafetensors(file)
    assert.equal(back.metadata.round, '7')
    assert.deepEqual(tensorsToWeights(spec, back.tensors), weights)
    const other = parseSpec({
      type: 'mlp',
      inputSize: 12,
      hidden: [9],
      classes: 3,
      activation: 'tanh',
    })
    assert.throws(() => tensorsToWeights(other, back.tensors), { code: 'SPEC_MISMATCH' })
  })

  it('refuses damaged files', () => {
    const good = Buffer.from(
      encodeSafetensors([{ name: 'w', shape: [2], data: Float32Array.of(1, 2) }]),
    )
    const n = Number(good.readBigUInt64LE(0))
    const withHeader = (h: unknown) => {
      const json = Buffer.from(JSON.stringify(h))
      const len = Buffer.alloc(8)
      len.writeBigUInt64LE(BigInt(json.length))
      return Buffer.concat([len, json, Buffer.alloc(8)])
    }
    const bad = [
      good.subarray(0, 4),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.alloc(4)]),
      (() => {
        const b = Buffer.from(good)
        b.writeBigUInt64LE(BigInt(2 ** 40), 0)
        return b
      })(),
      withHeader({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }),
      withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }),
      withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }),
      withHeader([1]),
      Buffer.concat([good.subarray(0, 8), Buffer.from('{'.padEnd(n)), good.subarray(8 + n)]),
    ]
    for (const [i, b] of bad.entries())
      assert.throws(() => decodeSafetensors(b), { code: 'CHECKPOINT_CORRUPT' }, `case ${i}`)
  })
})
