import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createManifest,
  parseManifest,
  parseProjectSpec,
  parseProjectSpecJson,
  REWARMUP_DEFAULT,
  SCORING_DEFAULT,
  scoringVersion,
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

  it('names the scoring rule and re-warmup: new projects the current ones, old manifests none (v1, 0)', () => {
    const manifest = createManifest(parseProjectSpec(valid), 'cd'.repeat(32), 1000)
    assert.equal(manifest.aggregation.scoring, SCORING_DEFAULT)
    assert.equal(scoringVersion(manifest), 'v2')
    assert.equal(manifest.recipe.inner.rewarmupSteps, Math.min(REWARMUP_DEFAULT, 4))
    // A manifest written before the fields: they stay absent, and mean the legacy rules.
    const old = JSON.parse(JSON.stringify(manifest)) as {
      aggregation: Record<string, unknown>
      recipe: { inner: Record<string, unknown> }
    }
    delete old.aggregation.scoring
    delete old.recipe.inner.rewarmupSteps
    const parsed = parseManifest(old)
    assert.equal(parsed.aggregation.scoring, undefined)
    assert.equal(scoringVersion(parsed), 'v1')
    assert.equal(parsed.recipe.inner.rewarmupSteps, undefined)
    // An explicit choice is kept, and anything else is refused.
    const v1 = createManifest(
      parseProjectSpec({ ...valid, aggregation: { rule: 'mean', scoring: 'v1' } }),
      'cd'.repeat(32),
    )
    assert.equal(scoringVersion(v1), 'v1')
    assert.throws(() => parseProjectSpec({ ...valid, aggregation: { scoring: 'v9' } }), {
      code: 'PROJECT_INVALID',
    })
  })

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
