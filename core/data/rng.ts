/**
 * Seeded randomness for the sampler. Streams are keyed by (seed, purpose, numbers) through SHA-256,
 * so the batch order depends only on the seed and the shard list, never on download timing.
 * sfc32 is a small, fast, well-tested 32-bit generator (PractRand-clean), plenty for shuffling.
 */
import { createHash } from 'node:crypto'

export type Rng = () => number

export function rngFor(seed: string | number, ...parts: Array<string | number>): Rng {
  const h = createHash('sha256')
    .update(`tandem/sampler/v1|${seed}|${parts.join('|')}`)
    .digest()
  let a = h.readUInt32LE(0)
  let b = h.readUInt32LE(4)
  let c = h.readUInt32LE(8)
  let d = h.readUInt32LE(12)
  return () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

/** Fisher–Yates in place. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
  return items
}
