import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createManifest,
  parseManifest,
  parseProjectSpec,
  parseProjectSpecJson,
} from '../../../core/ledger/manifest.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const valid = tinyProjectInput({
  name: 'tiny-lm',
  model: { type: 'transformer', vocab: 256, context: 32, dModel: 32, heads: 2, layers: 1 },
})

describe('project spec and manifest', () => {
  it('parses a minimal spec and fills the documented defaults', () => {
    const spec = parseProjectSpec(valid)
    assert.deepEqual(spec.recipe.outer, { lr: 0.7, momentum: 0.9 })
    assert.deepEqual(spec.recipe.compression, { method: 'int8', blockSize: 256 })
    assert.equal(spec.aggregation.rule, 'centered-clip')
    assert.equal(spec.credits.halfLifeDays, 7)
    assert.equal(spec.model.type === 'transformer' && spec.model.mlpRatio, 4)
  })

  it('round-trips through the ledger manifest', () => {
    const manifest = createManifest(parseProjectSpec(valid), 'cd'.repeat(32), 1_700_000_000_000)
    assert.deepEqual(parseManifest(JSON.parse(JSON.stringify(manifest))), manifest)
  })

  const bad: [string, unknown, string][] = [
    [
      'a dataset key that is not 32 bytes of hex',
      { ...valid, dataset: { key: 'xyz' } },
      'PROJECT_INVALID',
    ],
    [
      'more min than max updates',
      { ...valid, recipe: { ...valid.recipe, minUpdates: 9 } },
      'PROJECT_INVALID',
    ],
    ['an unknown aggregation rule', { ...valid, aggregation: { rule: 'vote' } }, 'PROJECT_INVALID'],
    ['an unknown key', { ...valid, postInstall: 'curl | sh' }, 'PROJECT_INVALID'],
    ['an unknown model type', { ...valid, model: { type: 'rnn' } }, 'SPEC_UNKNOWN_LAYER'],
    [
      'a non-finite learning rate',
      { ...valid, recipe: { ...valid.recipe, inner: { ...valid.recipe.inner, peakLr: Infinity } } },
      'PROJECT_INVALID',
    ],
    // A reputation of 0 for everyone would make a round's accepted updates weigh nothing.
    [
      'a zero initial reputation',
      { ...valid, credits: { initialReputation: 0 } },
      'PROJECT_INVALID',
    ],
    ['a reputation rate of 1', { ...valid, credits: { reputationRate: 1 } }, 'PROJECT_INVALID'],
  ]
  for (const [name, value, code] of bad)
    it(`rejects ${name} with ${code}`, () => assert.throws(() => parseProjectSpec(value), { code }))

  it('rejects oversize and malformed JSON text', () => {
    assert.throws(
      () => parseProjectSpecJson(JSON.stringify({ ...valid, description: 'x'.repeat(40_000) })),
      { code: 'PROJECT_INVALID' },
    )
    assert.throws(() => parseProjectSpecJson('{"name":'), { code: 'PROJECT_INVALID' })
  })

  it('rejects a manifest of another version or with a bad host key', () => {
    const manifest = createManifest(parseProjectSpec(valid), 'cd'.repeat(32))
    assert.throws(() => parseManifest({ ...manifest, version: 2 }), { code: 'PROJECT_INVALID' })
    assert.throws(() => parseManifest({ ...manifest, host: 'nope' }), { code: 'PROJECT_INVALID' })
  })
})
