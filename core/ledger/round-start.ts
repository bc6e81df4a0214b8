/**
 * The group of entries that starts a round in a ledger (reader.ts walks the rest): checkpoint 0
 * alone, or what closing round r−1 appended after its receipt, in one batch:
 *
 *   full checkpoints    checkpoint r + chunks, outer-state r + chunks
 *   outer updates       outer-update r−1 + chunks, [checkpoint r + chunks when r is a full round],
 *                       outer-state r + chunks, outer-residual r + chunks
 *
 * The manifest's recipe decides which layout a ledger must have (manifest.ts, outerUpdates), and
 * which rounds carry a full checkpoint; anything else is LEDGER_CORRUPT. A group whose blocks run
 * past the ledger's end is a torn tail (reader.ts), reported as `torn`.
 */
import { corrupt, decodeEntry } from './entries.js'
import type { CheckpointHeader, Entry, OuterUpdateHeader, Receipt, RoundOpen } from './entries.js'
import { fullCheckpointAt, type Manifest } from './manifest.js'

export interface CheckpointRef extends CheckpointHeader {
  /** Block index of the header; chunks follow it. */
  index: number
}

/**
 * A checkpoint the ledger does not store as a file: checkpoint r−1 + D(outer update r−1), whose
 * hash is `contentHash` (checkpoint-chain.ts rebuilds it).
 */
export interface DerivedCheckpoint {
  derived: true
  round: number
  contentHash: string
  /** Block index of the outer update that defines it. */
  index: number
}

export interface OuterUpdateRef extends OuterUpdateHeader {
  /** Block index of the header; chunks follow it. */
  index: number
}

export interface RoundRecord {
  round: number
  checkpoint: CheckpointRef | DerivedCheckpoint
  /** Outer momentum entering this round; absent for round 0 (zeros). */
  outerState?: CheckpointRef
  /** Outer-update projects, rounds > 0: U_{round−1}, which defines this round's checkpoint. */
  outerUpdate?: OuterUpdateRef
  /** Outer-update projects, rounds > 0: the host's error-feedback residual entering this round. */
  outerResidual?: CheckpointRef
  open?: RoundOpen
  receipt?: Receipt
  /** Proposals enacted in front of this round's round-open: in effect from this round on. */
  enacted?: number[]
  /**
   * A model amendment took effect in this round: its enact batch carries the new model's starting
   * checkpoint and outer-state, which replace (as `checkpoint`, `outerState`) the old model's ones
   * the previous round's close wrote, kept here (the previous receipt names them). Never in an
   * outer-update project: the reader refuses a model amendment's enactment there.
   */
  superseded?: { checkpoint: CheckpointRef | DerivedCheckpoint; outerState?: CheckpointRef }
}

export interface RoundStartInput {
  manifest: Manifest
  get: (index: number) => Promise<Buffer>
  length: number
  /** Index of the group's first entry, decoded as `entry`. */
  index: number
  entry: Entry & { kind: 'checkpoint' | 'outer-update' }
  /** The round the group starts. */
  round: number
  /** Checkpoint round−1's hash (null for round 0). */
  checkpointIn: string | null
  /** What receipt round−1 names as the next checkpoint (null for round 0). */
  checkpointOut: string | null
}

type Torn = { torn: string }

/** Reads the group; `end` is the index after it. */
export async function readRoundStart(
  a: RoundStartInput,
): Promise<{ record: RoundRecord; end: number } | Torn> {
  const { manifest, round } = a
  const outer = manifest.recipe.outerUpdates !== undefined
  let index = a.index
  let entry: Entry = a.entry

  /** A file entry (header + chunks) of `kind` for this round at `index`, or torn. */
  const fileAt = async (
    kind: 'checkpoint' | 'outer-state' | 'outer-residual',
    after: string,
  ): Promise<CheckpointRef | Torn> => {
    if (index >= a.length) return { torn: `${kind} is missing` }
    const e = decodeEntry(await a.get(index), index)
    if (e.kind !== kind || e.value.round !== round)
      throw corrupt(index, `${after} is not followed by its ${kind}`)
    const h = e.value as CheckpointHeader
    if (index + 1 + h.chunkCount > a.length) return { torn: `${kind} chunks are missing` }
    const ref = { ...h, index }
    index += 1 + h.chunkCount
    return ref
  }

  let outerUpdate: OuterUpdateRef | undefined
  let checkpoint: CheckpointRef | DerivedCheckpoint | undefined
  const first = a.entry
  if (first.kind === 'outer-update') {
    const h = first.value
    if (!outer) throw corrupt(index, 'an outer update in a project without outer updates')
    if (h.checkpointIn !== a.checkpointIn)
      throw corrupt(index, `outer update ${h.round} starts from another checkpoint`)
    if (h.checkpointOut !== a.checkpointOut)
      throw corrupt(index, `receipt ${h.round} names another checkpoint than its outer update`)
    if (index + 1 + h.chunkCount > a.length) return { torn: 'outer-update chunks are missing' }
    outerUpdate = { ...h, index }
    index += 1 + h.chunkCount
    if (!fullCheckpointAt(manifest, round))
      checkpoint = { derived: true, round, contentHash: h.checkpointOut, index: outerUpdate.index }
    else if (index < a.length) entry = decodeEntry(await a.get(index), index)
  } else if (outer && round > 0) {
    throw corrupt(index, `checkpoint ${round} without its outer update`)
  } else if (a.checkpointOut !== null && a.checkpointOut !== first.value.contentHash) {
    throw corrupt(index, `receipt ${round - 1} names another checkpoint than follows it`)
  }
  if (!checkpoint) {
    if (index >= a.length) return { torn: 'checkpoint is missing' }
    const e = index === a.index ? a.entry : entry
    if (e.kind !== 'checkpoint' || e.value.round !== round)
      throw corrupt(index, `outer update ${round - 1} is not followed by checkpoint ${round}`)
    if (outerUpdate && e.value.contentHash !== outerUpdate.checkpointOut)
      throw corrupt(index, `checkpoint ${round} is not the one its outer update names`)
    if (index + 1 + e.value.chunkCount > a.length) return { torn: 'checkpoint chunks are missing' }
    checkpoint = { ...e.value, index }
    index += 1 + e.value.chunkCount
  }
  const record: RoundRecord = { round, checkpoint, ...(outerUpdate ? { outerUpdate } : {}) }
  if (round > 0) {
    // Checkpoint r > 0 and its outer-state were appended in the same batch as receipt r − 1.
    const state = await fileAt('outer-state', `checkpoint ${round}`)
    if ('torn' in state) return state
    record.outerState = state
    if (outer) {
      const residual = await fileAt('outer-residual', `outer-state ${round}`)
      if ('torn' in residual) return residual
      record.outerResidual = residual
    }
  }
  return { record, end: index }
}
