import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { paramLayout, sizeOf } from '../../../core/engine/model/layout.js'
import { countParams, estimateMemory, trainFlopsPerSample } from '../../../core/engine/spec/cost.js'
import { specHash } from '../../../core/engine/spec/hash.js'
import { parseSpec, parseSpecJson } from '../../../core/engine/spec/parse.js'

const mnistMlp = { type: 'mlp', inputSize: 784, hidden: [256], classes: 10 }

describe('model specs', () => {
  it('parses each family and fills defaults', () => {
    const mlp = parseSpec(mnistMlp)
    assert.equal(mlp.type === 'mlp' && mlp.activation, 'relu')
    const cnn = parseSpec({
      type: 'cnn',
      input: { height: 28, width: 28, channels: 1 },
      layers: [{ type: 'conv2d', filters: 8, kernel: 3 }, { type: 'maxpool' }],
      classes: 10,
    })
    assert.deepEqual(cnn.type === 'cnn' && cnn.layers[0], {
      type: 'conv2d',
      filters: 8,
      kernel: 3,
      stride: 1,
      padding: 'same',
    })
    const lm = parseSpec({
      type: 'transformer',
      vocab: 256,
      context: 64,
      dModel: 64,
      heads: 4,
      layers: 2,
    })
    assert.equal(lm.type === 'transformer' && lm.mlpRatio, 4)
  })

  it('counts parameters as by hand', () => {
    assert.equal(countParams(parseSpec(mnistMlp)), 784 * 256 + 256 + 256 * 10 + 10)
    // conv 3×3×1×8 + 8, pool 28→14, dense 14·14·8 → 10
    const cnn = parseSpec({
      type: 'cnn',
      input: { height: 28, width: 28, channels: 1 },
      layers: [{ type: 'conv2d', filters: 8, kernel: 3 }, { type: 'maxpool' }],
      classes: 10,
    })
    assert.equal(countParams(cnn), 3 * 3 * 8 + 8 + 14 * 14 * 8 * 10 + 10)
    const [v, t, d, l, m] = [256, 64, 32, 2, 4]
    const lm = parseSpec({
      type: 'transformer',
      vocab: v,
      context: t,
      dModel: d,
      heads: 4,
      layers: l,
      mlpRatio: m,
    })
    const block =
      2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * m * d + m * d) + (m * d * d + d)
    assert.equal(countParams(lm), v * d + t * d + l * block + 2 * d + d * v + v)
  })

  it('computes training FLOPs per sample from the spec', () => {
    assert.equal(trainFlopsPerSample(parseSpec(mnistMlp)), 6 * (784 * 256 + 256 * 10))
    const lm = parseSpec({
      type: 'transformer',
      vocab: 256,
      context: 64,
      dModel: 32,
      heads: 4,
      layers: 2,
      mlpRatio: 4,
    })
    const perToken = 2 * (32 * 96 + 32 * 32 + 2 * 32 * 128 + 2 * 64 * 32) + 32 * 256
    assert.equal(trainFlopsPerSample(lm), 6 * 64 * perToken)
  })

  it('lays out parameters consistently with the count', () => {
    for (const spec of [
      parseSpec(mnistMlp),
      parseSpec({ type: 'transformer', vocab: 64, context: 16, dModel: 16, heads: 2, layers: 3 }),
    ]) {
      assert.equal(
        paramLayout(spec).reduce((n, p) => n + sizeOf(p.shape), 0),
        countParams(spec),
      )
      assert.equal(new Set(paramLayout(spec).map((p) => p.name)).size, paramLayout(spec).length)
    }
  })

  it('estimates memory that grows with batch size', () => {
    const spec = parseSpec(mnistMlp)
    const small = estimateMemory(spec, 32)
    const big = estimateMemory(spec, 1024)
    assert.equal(small.stateBytes, countParams(spec) * 24)
    assert.ok(big.activationBytes > small.activationBytes * 30)
  })

  it('hashes the canonical spec: key order and defaults do not matter', () => {
    const a = parseSpec({ type: 'mlp', inputSize: 4, hidden: [3], classes: 2 })
    const b = parseSpecJson(
      '{"classes":2,"hidden":[3],"activation":"relu","inputSize":4,"type":"mlp"}',
    )
    assert.equal(specHash(a), specHash(b))
    assert.notEqual(
      specHash(a),
      specHash(parseSpec({ type: 'mlp', inputSize: 4, hidden: [4], classes: 2 })),
    )
  })

  describe('rejects bad specs with codes', () => {
    const cases: [string, unknown, string][] = [
      ['unknown model type', { type: 'rnn', units: 4 }, 'SPEC_UNKNOWN_LAYER'],
      [
        'unknown layer type',
        {
          type: 'cnn',
          input: { height: 8, width: 8, channels: 1 },
          layers: [{ type: 'lstm' }],
          classes: 2,
        },
        'SPEC_UNKNOWN_LAYER',
      ],
      ['NaN', { type: 'mlp', inputSize: NaN, hidden: [], classes: 2 }, 'SPEC_NON_FINITE'],
      [
        'Infinity deep inside',
        { type: 'cnn', input: { height: 8, width: Infinity, channels: 1 }, layers: [], classes: 2 },
        'SPEC_NON_FINITE',
      ],
      [
        'too many parameters',
        { type: 'mlp', inputSize: 65536, hidden: [65536], classes: 10 },
        'SPEC_TOO_LARGE',
      ],
      [
        'heads not dividing dModel',
        { type: 'transformer', vocab: 10, context: 8, dModel: 10, heads: 3, layers: 1 },
        'SPEC_INVALID',
      ],
      [
        'extra keys (code hidden in a spec)',
        { type: 'mlp', inputSize: 4, hidden: [], classes: 2, onLoad: 'rm -rf /' },
        'SPEC_INVALID',
      ],
      ['fractional width', { type: 'mlp', inputSize: 4.5, hidden: [], classes: 2 }, 'SPEC_INVALID'],
      [
        'a pool stack that shrinks to nothing',
        {
          type: 'cnn',
          input: { height: 2, width: 2, channels: 1 },
          layers: [{ type: 'maxpool' }, { type: 'maxpool' }],
          classes: 2,
        },
        'SPEC_INVALID',
      ],
      ['not an object', 'mlp', 'SPEC_INVALID'],
    ]
    for (const [name, value, code] of cases) {
      it(name, () => assert.throws(() => parseSpec(value), { code }))
    }
    it('oversize JSON text', () =>
      assert.throws(() => parseSpecJson(' '.repeat(20_000) + '{}'), { code: 'SPEC_TOO_LARGE' }))
    it('malformed JSON text', () =>
      assert.throws(() => parseSpecJson('{"type": "mlp",'), { code: 'SPEC_INVALID' }))
  })
})
