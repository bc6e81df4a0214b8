/**
 * Checkpoints of outer-update projects (docs/ledger.md, "Outer updates"). Checkpoint r is
 * checkpoint r−1 + D(outer update r−1) in float32 (engine/compress/outer-update.ts), and the
 * ledger stores the file only for full rounds. A reader rebuilds checkpoint r from the last full
 * checkpoint before it, or from a checkpoint it already holds (a contributor that trained round
 * r−1), applying the outer updates since; after each one the result must hash to the checkpoint
 * the ledger names, so a corrupt or forged update is LEDGER_CHECKPOINT_MISMATCH naming its round.
 */
import { createHash } from 'node:crypto'
import { isTandemError, TandemError } from '../api/errors.js'
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../engine/checkpoint.js'
import { applyOuterUpdate } from '../engine/compress/outer-update.js'
import type { ModelSpec } from '../engine/spec/schema.js'
import { corrupt, decodeEntry } from './entries.js'
import type { LedgerState } from './reader.js'

/** A checkpoint a reader already holds (verified when it got it). */
export interface HeldCheckpoint {
  round: number
  weights: Float32Array
}

type Get = (index: number) => Promise<Buffer>

/** Hex content hash of the checkpoint file of `weights` (its trailing SHA-256). */
export function checkpointHash(spec: ModelSpec, round: number, weights: Float32Array): string {
  const file = encodeCheckpoint(spec, round, weights)
  return Buffer.from(file.subarray(file.byteLength - 32)).toString('hex')
}

const mismatch = (round: number, why: string) =>
  new TandemError('LEDGER_CHECKPOINT_MISMATCH', `checkpoint ${round} does not verify: ${why}`)

/** The bytes of outer update `round` (U_round, which defines checkpoint round+1), hash-checked. */
export async function readOuterUpdate(
  get: Get,
  state: LedgerState,
  round: number,
): Promise<Uint8Array> {
  const ref = state.rounds[round + 1]?.outerUpdate
  if (!ref) throw new TandemError('NOT_FOUND', `the ledger has no outer update ${round}`)
  const parts: Uint8Array[] = []
  let size = 0
  for (let i = 1; i <= ref.chunkCount; i++) {
    const entry = decodeEntry(await get(ref.index + i), ref.index + i)
    if (entry.kind !== 'chunk') throw corrupt(ref.index + i, `outer update ${round} chunk missing`)
    size += entry.bytes.byteLength
    if (size > ref.byteLength)
      throw mismatch(
        round + 1,
        `outer update ${round} exceeds the ${ref.byteLength} bytes declared`,
      )
    parts.push(entry.bytes)
  }
  const bytes = Buffer.concat(parts)
  if (bytes.byteLength !== ref.byteLength)
    throw mismatch(
      round + 1,
      `outer update ${round} has ${bytes.byteLength} bytes, not ${ref.byteLength}`,
    )
  if (createHash('sha256').update(bytes).digest('hex') !== ref.hash)
    throw mismatch(round + 1, `outer update ${round} does not match its hash`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The latest round ≤ `round` whose checkpoint file the ledger stores. */
function lastStored(state: LedgerState, round: number): number {
  for (let k = round; k > 0; k--) if (!('derived' in state.rounds[k]!.checkpoint)) return k
  return 0
}

/**
 * Whether rebuilding checkpoint `round` from `held` reads less than its stored file would: each
 * outer update is about a quarter of a checkpoint (int8 against float32).
 */
export function chainFrom(
  state: LedgerState,
  round: number,
  held: HeldCheckpoint | undefined,
): HeldCheckpoint | undefined {
  if (!held || held.round > round || state.manifest.recipe.outerUpdates === undefined) return
  const stored = !('derived' in state.rounds[round]!.checkpoint)
  if (stored) return round - held.round < 4 ? held : undefined
  return held.round >= lastStored(state, round) ? held : undefined
}

/**
 * Checkpoint `round`, rebuilt from `held` (chainFrom) or the last stored checkpoint before it
 * (`readStored`) by applying the outer updates since, each result checked against the ledger.
 */
export async function readChained(
  get: Get,
  state: LedgerState,
  round: number,
  readStored: (round: number) => Promise<Checkpoint>,
  held?: HeldCheckpoint,
): Promise<Checkpoint> {
  const spec = state.manifest.model
  let at = held?.round ?? lastStored(state, round)
  let weights = held ? Float32Array.from(held.weights) : (await readStored(at)).weights
  while (at < round) {
    const bytes = await readOuterUpdate(get, state, at)
    try {
      weights = applyOuterUpdate(weights, bytes)
    } catch (err) {
      if (isTandemError(err) && err.code === 'COMPRESSION_CORRUPT')
        throw mismatch(at + 1, `outer update ${at}: ${err.message}`)
      throw err
    }
    at++
    const want = state.rounds[at]!.checkpoint.contentHash
    const got = checkpointHash(spec, at, weights)
    if (got !== want)
      throw mismatch(
        at,
        `checkpoint ${at - 1} + outer update ${at - 1} hashes to ${got.slice(0, 12)}…, the ledger says ${want.slice(0, 12)}…`,
      )
  }
  return decodeCheckpoint(encodeCheckpoint(spec, round, weights), spec)
}
