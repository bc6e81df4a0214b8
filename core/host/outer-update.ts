/**
 * What a round's close publishes as the next checkpoint, written once for the host (round-loop.ts)
 * and `tandem verify` (verify.ts), so both get the same bits. Without outer updates it is the outer
 * step's result θ′ itself. With them (manifest.ts, outerUpdates) it is θ_r + D(U_r), where
 * U_r = C(θ′ − θ_r + e_r) is compressed with the recipe's compression and e_r is the host's
 * error-feedback residual entering round r (engine/compress/outer-update.ts), so contributors
 * download U_r (≈ n bytes as int8) instead of checkpoint r+1 (4n bytes).
 */
import { encodeOuterUpdate } from '../engine/compress/outer-update.js'
import type { OuterUpdateWrite } from '../ledger/ledger.js'
import type { Manifest } from '../ledger/manifest.js'

export interface PublishedCheckpoint {
  /** Checkpoint r+1 as the ledger's hash names it. */
  weights: Float32Array
  /** U_r and e_{r+1} (outer-update projects only). */
  outerUpdate?: OuterUpdateWrite
}

/**
 * Checkpoint r+1 from checkpoint r (`current`), the outer step's result (`target`) and, in an
 * outer-update project, the host residual entering round r (`residual`; required there).
 */
export function publishedCheckpoint(
  manifest: Pick<Manifest, 'recipe'>,
  current: Float32Array,
  target: Float32Array,
  residual: Float32Array | null,
): PublishedCheckpoint {
  if (manifest.recipe.outerUpdates === undefined) return { weights: target }
  const u = encodeOuterUpdate(
    target,
    current,
    residual ?? new Float32Array(current.length),
    manifest.recipe.compression,
  )
  return { weights: u.next, outerUpdate: { bytes: u.bytes, residual: u.residual } }
}
