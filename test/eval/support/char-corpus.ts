/**
 * The character-level language-model data of the convergence experiment: tinyshakespeare when the
 * shared data folder has it, else the demo's generated corpus. Characters map to ids by sorted
 * distinct character; the last 10 % of the text is held out for validation; training windows are
 * drawn uniformly at random from the rest by a seeded generator (one stream per worker).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TokenBatch } from '../../../core/engine/batch.js'
import { seededRandom } from '../../../core/engine/model/init.js'
import { generateCorpus } from '../../../core/demo/corpus.js'

export interface CharCorpus {
  source: string
  vocab: number
  train: Int32Array
  validation: Int32Array
}

export function loadCharCorpus(dataDir: string | undefined): CharCorpus {
  const file = dataDir ? join(dataDir, 'tinyshakespeare.txt') : undefined
  const shakespeare = file !== undefined && existsSync(file)
  const text = shakespeare ? readFileSync(file, 'utf8') : generateCorpus(1_000_000, 1)
  const chars = [...new Set(text)].sort()
  const id = new Map(chars.map((c, i) => [c, i]))
  const ids = Int32Array.from(text, (c) => id.get(c) as number)
  const cut = Math.floor(ids.length * 0.9)
  return {
    source: shakespeare ? 'tinyshakespeare.txt' : 'generated corpus (core/demo/corpus.ts)',
    vocab: chars.length,
    train: ids.subarray(0, cut),
    validation: ids.subarray(cut),
  }
}

function windows(text: Int32Array, batch: number, seqLen: number, rand: () => number): TokenBatch {
  const row = seqLen + 1
  const tokens = new Int32Array(batch * row)
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(rand() * (text.length - row))
    tokens.set(text.subarray(start, start + row), b * row)
  }
  return { kind: 'tokens', batch, seqLen, tokens }
}

/** An endless seeded stream of training batches. */
export function trainStream(corpus: CharCorpus, batch: number, seqLen: number, seed: number) {
  const rand = seededRandom(seed)
  return () => windows(corpus.train, batch, seqLen, rand)
}

/** The fixed held-out batch every run is scored on. */
export function validationBatch(corpus: CharCorpus, batch: number, seqLen: number): TokenBatch {
  return windows(corpus.validation, batch, seqLen, seededRandom(0x5eed))
}

/** Concatenates batches of equal window length into one (the synchronous baseline's big batch). */
export function concatBatches(parts: TokenBatch[]): TokenBatch {
  const first = parts[0] as TokenBatch
  const tokens = new Int32Array(parts.reduce((n, p) => n + p.tokens.length, 0))
  let offset = 0
  for (const p of parts) {
    tokens.set(p.tokens, offset)
    offset += p.tokens.length
  }
  return {
    kind: 'tokens',
    batch: parts.reduce((n, p) => n + p.batch, 0),
    seqLen: first.seqLen,
    tokens,
  }
}
