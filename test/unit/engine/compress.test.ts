import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decode, encode, encodedSize } from '../../../core/engine/compress/codec.js'
import { ErrorFeedback, compressOnce } from '../../../core/engine/compress/error-feedback.js'
import { densify, quantizeInt8, topK } from '../../../core/engine/compress/quantize.js'
import { seededRandom } from '../../../core/engine/model/init.js'

const floats = (min = 1, max = 2000) =>
  fc.float32Array({
    minLength: min,
    maxLength: max,
    noNaN: true,
    noDefaultInfinity: true,
    min: -1e6,
    max: 1e6,
  })

function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const r = seededRandom(seed)
  return Float32Array.from(
    { length: n },
    () => scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()),
  )
}

describe('int8 block quantization', () => {
  it('every element is within half a quantization step of its block', () => {
    fc.assert(
      fc.property(floats(), fc.integer({ min: 1, max: 300 }), (x, blockSize) => {
        const q = quantizeInt8(x, blockSize)
        const back = densify(q)
        for (let i = 0; i < x.length; i++) {
          const scale = q.scales[Math.floor(i / blockSize)] as number
          const err = Math.abs((x[i] as number) - (back[i] as number))
          if (err > scale / 2 + Math.abs(x[i] as number) * 1e-6) return false
        }
        return true
      }),
      { numRuns: 300 },
    )
  })

  it('round-trips through the codec with an exact byte count', () => {
    const x = gaussian(1000, 1)
    const q = quantizeInt8(x, 256)
    const bytes = encode(q)
    assert.equal(bytes.byteLength, 12 + 4 + 4 * 4 + 1000)
    assert.equal(bytes.byteLength, encodedSize(q))
    assert.deepEqual(densify(decode(bytes, 1000)), densify(q))
  })
})

describe('top-k sparsification', () => {
  it('keeps exactly the k largest magnitudes, unchanged', () => {
    fc.assert(
      fc.property(floats(1, 500), fc.double({ min: 0.001, max: 1, noNaN: true }), (x, fraction) => {
        const k = Math.max(1, Math.ceil(fraction * x.length))
        const t = topK(x, k)
        if (t.indices.length !== k) return false
        const kept = new Set(t.indices)
        const minKept = Math.min(...Array.from(t.indices, (i) => Math.abs(x[i] as number)))
        for (let i = 0; i < x.length; i++) {
          if (!kept.has(i) && Math.abs(x[i] as number) > minKept) return false
        }
        return Array.from(t.indices).every(
          (idx, j) =>
            Object.is(t.values[j], x[idx]) && (j === 0 || idx > (t.indices[j - 1] as number)),
        )
      }),
      { numRuns: 300 },
    )
  })

  it('encodes to 16 + 8k bytes', () => {
    const t = compressOnce(gaussian(10_000, 2), { method: 'topk', fraction: 0.01 })
    assert.equal(encode(t).byteLength, 12 + 4 + 8 * 100)
  })
})

describe('error feedback', () => {
  for (const cfg of [
    { method: 'int8', blockSize: 64 },
    { method: 'topk', fraction: 0.05 },
  ] as const) {
    it(`${cfg.method}: what is sent adds up to the true updates minus a bounded residual`, () => {
      const n = 2000
      const rounds = 40
      const ef = new ErrorFeedback(n)
      const trueSum = new Float64Array(n)
      const sentSum = new Float64Array(n)
      const plainSum = new Float64Array(n)
      // A consistent small bias in every update: exactly what top-k alone drops forever.
      const bias = 0.01
      for (let r = 0; r < rounds; r++) {
        const delta = gaussian(n, 100 + r).map((v) => v + bias)
        const sent = ef.compress(delta, cfg).decoded
        const plain = densify(compressOnce(delta, cfg))
        for (let i = 0; i < n; i++) {
          trueSum[i] = (trueSum[i] as number) + (delta[i] as number)
          sentSum[i] = (sentSum[i] as number) + (sent[i] as number)
          plainSum[i] = (plainSum[i] as number) + (plain[i] as number)
        }
      }
      let identity = 0
      let efBias = 0
      let plainBias = 0
      for (let i = 0; i < n; i++) {
        identity = Math.max(
          identity,
          Math.abs((trueSum[i] as number) - (sentSum[i] as number) - (ef.residual[i] as number)),
        )
        efBias += ((trueSum[i] as number) - (sentSum[i] as number)) / n
        plainBias += ((trueSum[i] as number) - (plainSum[i] as number)) / n
      }
      assert.ok(identity < 1e-3, `sum identity off by ${identity}`)
      // With feedback the mean shortfall is whatever sits in the residual now (about one round's worth);
      // without it, the dropped bias accumulates every round.
      assert.ok(
        Math.abs(efBias) < rounds * bias * 0.2,
        `error feedback left a mean bias of ${efBias}`,
      )
      if (cfg.method === 'topk')
        assert.ok(Math.abs(plainBias) > rounds * bias * 0.5, `plain top-k bias ${plainBias}`)
    })
  }
})

describe('codec decoding of peer input', () => {
  it('rejects truncations, bad magic, bad lengths and unsorted indices with COMPRESSION_CORRUPT', () => {
    const good = encode(compressOnce(gaussian(100, 3), { method: 'topk', fraction: 0.1 }))
    const bad: Uint8Array[] = [
      good.subarray(0, 11),
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
      Uint8Array.from(good, (b, i) => (i === 0 ? 0 : b)),
    ]
    const swapped = Uint8Array.from(good)
    swapped.copyWithin(16, 20, 24) // second index copied over the first: no longer strictly increasing
    bad.push(swapped)
    for (const bytes of bad) assert.throws(() => decode(bytes), { code: 'COMPRESSION_CORRUPT' })
    assert.throws(() => decode(good, 99), { code: 'COMPRESSION_CORRUPT' })
  })

  it('never throws anything but COMPRESSION_CORRUPT on random or mutated bytes', () => {
    const seeds = [
      encode(compressOnce(gaussian(64, 4), { method: 'int8', blockSize: 16 })),
      encode(compressOnce(gaussian(64, 5), { method: 'topk', fraction: 0.2 })),
      encode(compressOnce(gaussian(16, 6), { method: 'f32' })),
    ]
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      )
      .map(([seed, edits]) => {
        const b = Uint8Array.from(seed)
        for (const [at, v] of edits) b[at % b.length] = v
        return b
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated), (bytes) => {
        try {
          decode(bytes)
          return true
        } catch (err) {
          return (err as { code?: string }).code === 'COMPRESSION_CORRUPT'
        }
      }),
      { numRuns: 5000 },
    )
  })
})
