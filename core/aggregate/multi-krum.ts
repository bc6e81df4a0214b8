/**
 * Multi-Krum (Blanchard, El Mhamdi, Guerraoui & Stainer 2017). With n updates of positive weight
 * and at most f attackers, each update's score is the sum of squared distances to its n − f − 2
 * nearest others; the m best-scoring updates are averaged by weight. Scores ignore weights: they
 * measure how typical an update is, which a large weight must not buy.
 *
 * Two passes: the pairwise squared distances (n(n−1)/2 sums, carried across chunks in coordinate
 * order), then the weighted mean of the selection and the diagnostics. Ties in score go to the
 * lower update index.
 */
import { UpdateSet } from './chunked-updates.js'
import { DiagnosticsAccumulator } from './diagnostics.js'
import { squaredDistance } from './kernels.js'
import { meanPass } from './mean.js'
import { badConfig, type AggregateResult, type ChunkOptions, type WeightedUpdate } from './types.js'

export interface MultiKrumOptions extends ChunkOptions {
  /** Assumed number of attackers. Default ⌊(n − 3) / 2⌋ (the most Krum tolerates), at least 0. */
  f?: number
  /** How many best-scoring updates to average. Default n − f. */
  m?: number
}

export function multiKrum(
  updates: readonly WeightedUpdate[] | UpdateSet,
  options: MultiKrumOptions = {},
): AggregateResult {
  const set = updates instanceof UpdateSet ? updates : UpdateSet.from(updates, options)
  const active = set.activeIndices()
  const n = active.length
  const f = options.f ?? Math.max(0, Math.floor((n - 3) / 2))
  if (!Number.isSafeInteger(f) || f < 0 || f >= n) badConfig(`f ${f} must be in [0, ${n})`)
  const m = options.m ?? n - f
  if (!Number.isSafeInteger(m) || m < 1 || m > n) badConfig(`m ${m} must be in [1, ${n}]`)
  // Below n = f + 3 Krum's neighbourhood is empty; use the nearest one so small rounds still work.
  const neighbours = Math.min(n - 1, Math.max(1, n - f - 2))

  const pair = new Float64Array(n * n)
  set.forEachChunk((_start, rows) => {
    for (let a = 0; a < n; a++) {
      const ra = rows[active[a] as number] as Float32Array
      for (let b = a + 1; b < n; b++) {
        const rb = rows[active[b] as number] as Float32Array
        pair[a * n + b] = squaredDistance(ra, rb, pair[a * n + b] as number)
      }
    }
  })

  const scores = new Float64Array(n)
  const row = new Float64Array(Math.max(0, n - 1))
  for (let a = 0; a < n; a++) {
    let k = 0
    for (let b = 0; b < n; b++)
      if (b !== a) row[k++] = pair[a < b ? a * n + b : b * n + a] as number
    row.sort()
    let s = 0
    for (let q = 0; q < neighbours && q < row.length; q++) s += row[q] as number
    scores[a] = s
  }
  const ranked = Array.from(active.keys()).sort(
    (x, y) => (scores[x] as number) - (scores[y] as number) || x - y,
  )
  const chosen = ranked.slice(0, m).sort((x, y) => x - y)
  const selected = new Uint8Array(set.count)
  let Wsel = 0
  for (const a of chosen) {
    const i = active[a] as number
    selected[i] = 1
    Wsel += set.weights[i] as number
  }

  const out = new Float32Array(set.length)
  const diag = new DiagnosticsAccumulator(set.count)
  const members = chosen.map((a) => active[a] as number)
  meanPass(set, members, Wsel, out, (rows, chunk) => diag.add(rows, chunk))
  const scoreOf = new Map(active.map((i, a) => [i, scores[a] as number]))
  return {
    rule: 'multi-krum',
    aggregate: out,
    updates: diag.finish(
      set.weights,
      Array.from(set.weights, (w, i) => (selected[i] ? w / Wsel : 0)),
      (i) => ({ selected: selected[i] === 1, ...(scoreOf.has(i) && { score: scoreOf.get(i) }) }),
    ),
    totalWeight: set.totalWeight,
    params: { f, m, neighbours },
  }
}
