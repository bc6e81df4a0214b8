import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateCorpus } from '../../../core/demo/corpus.js'

describe('demo corpus', () => {
  it('is deterministic per seed, exactly the asked size, plain ASCII sentences', () => {
    const a = generateCorpus(50_000, 4)
    assert.equal(a, generateCorpus(50_000, 4))
    assert.notEqual(a, generateCorpus(50_000, 5))
    assert.equal(a.length, 50_000)
    assert.match(a, /^[\x20-\x7e\n]+$/)
    assert.ok(a.split('\n\n').length > 100, 'many paragraphs')
    assert.doesNotMatch(a, /\ba [aeiou]/, 'articles agree with the next word')
  })

  it('varies: no single sentence dominates', () => {
    const sentences = generateCorpus(100_000, 1).split(/(?<=[.?"])\s+/)
    const counts = new Map<string, number>()
    for (const s of sentences) counts.set(s, (counts.get(s) ?? 0) + 1)
    const top = Math.max(...counts.values())
    assert.ok(top / sentences.length < 0.02, `most frequent sentence is ${top}/${sentences.length}`)
  })
})
