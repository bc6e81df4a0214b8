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
import { charterSummary, DEFAULT_POLICY, termsHash } from '../../../core/ledger/charter.js'
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
    assert.equal(scoringVersion(manifest), 'v3')
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
    assert.throws(() => parseManifest({ ...manifest, version: 3 }), { code: 'PROJECT_INVALID' })
    assert.throws(() => parseManifest({ ...manifest, host: 'nope' }), { code: 'PROJECT_INVALID' })
  })
})

describe('charter (manifest version 2)', () => {
  const charter = {
    purpose: 'A tiny byte-level language model for a teaching demo.',
    weights: { licence: 'CC0-1.0' },
    dataSources: [{ name: 'tiny shakespeare', licence: 'public domain' }],
    host: { name: 'Demo host', contact: 'demo@example.org' },
  }

  it('fills the policy defaults and round-trips', () => {
    const spec = parseProjectSpec({ ...valid, charter })
    assert.equal(spec.charter!.weights.download, 'everyone')
    assert.deepEqual(spec.charter!.prohibitedUses, [])
    assert.deepEqual(spec.charter!.governance, DEFAULT_POLICY)
    const manifest = createManifest(spec, 'cd'.repeat(32), 1)
    assert.equal(manifest.version, 2)
    assert.deepEqual(parseManifest(JSON.parse(JSON.stringify(manifest))), manifest)
  })

  it('still reads a version 1 manifest: no charter', () => {
    const manifest = createManifest(parseProjectSpec(valid), 'cd'.repeat(32), 1)
    const v1 = parseManifest({ ...JSON.parse(JSON.stringify(manifest)), version: 1 })
    assert.equal(v1.version, 1)
    assert.equal(v1.charter, undefined)
    assert.equal(charterSummary(v1.charter), 'no charter')
    assert.equal(termsHash(v1.charter), 'none')
    assert.throws(() => parseManifest({ ...manifest, version: 1, charter }), {
      code: 'PROJECT_INVALID',
    })
  })

  it('refuses a charter without data sources or with a bad policy, naming the field', () => {
    const bad = [
      { ...charter, dataSources: [] },
      { ...charter, governance: { quorum: 2 } },
      { ...charter, governance: { votingPeriod: { rounds: 0 } } },
      { ...charter, weights: { licence: 'x', download: 'anyone' } },
    ]
    for (const c of bad)
      assert.throws(() => parseProjectSpec({ ...valid, charter: c }), {
        code: 'PROJECT_INVALID',
        message: /charter/,
      })
  })

  it('terms change with purpose, licence or data, not with the host or the policy', () => {
    const base = parseProjectSpec({ ...valid, charter }).charter!
    const same = { ...base, host: { name: 'Other', contact: 'x@y.z' } }
    assert.equal(termsHash(same), termsHash(base))
    assert.equal(
      termsHash({ ...base, governance: { ...base.governance, quorum: 0.9 } }),
      termsHash(base),
    )
    assert.notEqual(termsHash({ ...base, purpose: 'Something else' }), termsHash(base))
    assert.notEqual(
      termsHash({ ...base, weights: { licence: 'MIT', download: 'everyone' } }),
      termsHash(base),
    )
    assert.notEqual(termsHash({ ...base, dataSources: [] }), termsHash(base))
  })
})
