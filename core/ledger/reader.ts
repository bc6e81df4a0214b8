/**
 * Reads a project ledger (entries.ts) into rounds, checking the order a well-behaved host writes:
 *
 *   manifest, checkpoint 0, open 0, [receipt 0 + checkpoint 1 + outer-state 1], open 1, …
 *
 * Bracketed groups are one append batch. Outer-state r is the Nesterov momentum entering round r
 * (round 0 has none: zeros); with it every round can be replayed on its own. Anything out of that order is LEDGER_CORRUPT. Walking reads
 * only entry blocks and skips checkpoint chunks, so listing rounds of a replicated ledger does not
 * download the weights; `checkpoint()` fetches and verifies one on demand.
 *
 * Torn tail: the host appends every state change as a single batch, and hypercore applies a batch
 * all or nothing, so a crash never leaves a half entry. A tail that is still incomplete (a header
 * whose chunks run past the end, a receipt without its checkpoint, a checkpoint r > 0
 * without its outer-state) was written by some other writer
 * or is a prefix still being replicated; the reader reports it as `tornTail` and leaves it out of the
 * state, and the writer truncates it on open (ledger.ts).
 */
import type Hypercore from 'hypercore'
import { isTandemError, TandemError } from '../api/errors.js'
import { checkpointByteLength, decodeCheckpoint, type Checkpoint } from '../engine/checkpoint.js'
import { paramLayout, sizeOf } from '../engine/model/layout.js'
import { corrupt, decodeEntry, MAX_ENTRY_BYTES } from './entries.js'
import type { Entry, Receipt } from './entries.js'
import { proposalHash, type Proposal, type Vote } from './amendments.js'
import { effectiveManifest } from './governance.js'
import { parseManifest, type Manifest } from './manifest.js'
import type { ModelSpec } from '../engine/spec/schema.js'
import { chainFrom, readChained, type HeldCheckpoint } from './checkpoint-chain.js'
import { readRoundStart, type CheckpointRef, type RoundRecord } from './round-start.js'

export type { CheckpointRef, OuterUpdateRef, RoundRecord } from './round-start.js'

/** Governance entries (amendments.ts) as read; `round` is the ledger's current round then. */
export interface ProposalRecord {
  index: number
  round: number
  hash: string
  value: Proposal
}
export interface VoteRecord {
  index: number
  round: number
  value: Vote
}
export interface GovernanceLog {
  proposals: ProposalRecord[]
  votes: VoteRecord[]
}

export interface LedgerState {
  manifest: Manifest
  rounds: RoundRecord[]
  /** Blocks of complete state; blocks from here on are the torn tail, if any. */
  completeLength: number
  tornTail: { index: number; why: string } | null
  /** The ledger's key, hex (votes are signed over it; absent from states built by hand). */
  key?: string
  /** Proposals and votes (absent from states built by hand: read as none). */
  governance?: GovernanceLog
}

export interface ReadOptions {
  /** false: blocks missing locally are LEDGER_UNAVAILABLE instead of waiting for peers. */
  wait?: boolean
  timeout?: number
}

/** Ledger block `index`: LEDGER_UNAVAILABLE when it does not come (or is not here, wait: false). */
export async function readLedgerBlock(
  core: Hypercore,
  index: number,
  opts: ReadOptions,
): Promise<Buffer> {
  return block(core, index, opts)
}

async function block(core: Hypercore, index: number, opts: ReadOptions): Promise<Buffer> {
  let value: Buffer | null
  try {
    value = await core.get(index, { wait: opts.wait ?? true, timeout: opts.timeout ?? 0 })
  } catch (err) {
    throw new TandemError('LEDGER_UNAVAILABLE', `ledger block ${index} is not available`, {
      cause: err,
    })
  }
  if (value === null)
    throw new TandemError('LEDGER_UNAVAILABLE', `ledger block ${index} is not stored here`)
  return value
}

export function readManifestBlock(bytes: Buffer): Manifest {
  if (bytes.length > MAX_ENTRY_BYTES) throw corrupt(0, 'manifest is too large')
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw corrupt(0, 'manifest is not JSON', err)
  }
  try {
    return parseManifest(json)
  } catch (err) {
    throw corrupt(0, `manifest: ${(err as Error).message}`, err)
  }
}

export async function readLedger(core: Hypercore, opts: ReadOptions = {}): Promise<LedgerState> {
  await core.ready()
  if (core.length === 0) throw new TandemError('LEDGER_UNAVAILABLE', 'the ledger is empty')
  const manifest = readManifestBlock(await block(core, 0, opts))
  const rounds: RoundRecord[] = []
  let index = 1
  let torn: LedgerState['tornTail'] = null
  // What may come next: a checkpoint (of round `rounds.length`), a round-open, or a receipt.
  let expect: 'checkpoint' | 'open' | 'receipt' = 'checkpoint'
  let pendingReceipt: { value: Receipt; index: number } | null = null
  const governance: GovernanceLog = { proposals: [], votes: [] }
  const proposals = new Map<number, ProposalRecord>()
  let enacting: number[] = []
  let enactStart = 0
  while (index < core.length) {
    const raw = await block(core, index, opts)
    const entry: Entry = decodeEntry(raw, index)
    const current = rounds[rounds.length - 1]
    if (entry.kind === 'enact' && enacting.length > 0 && expect !== 'open')
      throw corrupt(index, 'enact outside the front of a round-open')
    const boundary = entry.kind === 'checkpoint' && enacting.length > 0
    if (enacting.length > 0 && entry.kind !== 'enact' && entry.kind !== 'round-open' && !boundary)
      throw corrupt(index, 'enact not followed by its round-open')
    if (boundary) {
      // A model amendment's starting checkpoint and outer-state, between its enact and round-open.
      const h = entry.value
      if (!current || expect !== 'open' || h.round !== current.round || current.superseded)
        throw corrupt(index, `unexpected checkpoint of round ${h.round} in an enact batch`)
      if (!enacting.some((p) => proposals.get(p)!.value.change.kind === 'model'))
        throw corrupt(index, 'a new checkpoint in an enact batch without a model amendment')
      const end = index + 1 + h.chunkCount
      if (end >= core.length) {
        torn = { index: enactStart, why: "the new model's checkpoint is incomplete" }
        break
      }
      const next = decodeEntry(await block(core, end, opts), end)
      if (next.kind !== 'outer-state' || next.value.round !== h.round)
        throw corrupt(
          end,
          `the new model's checkpoint ${h.round} is not followed by its outer-state`,
        )
      if (end + 1 + next.value.chunkCount > core.length) {
        torn = { index: enactStart, why: "the new model's outer-state is incomplete" }
        break
      }
      current.superseded = {
        checkpoint: current.checkpoint,
        ...(current.outerState ? { outerState: current.outerState } : {}),
      }
      current.checkpoint = { ...h, index }
      current.outerState = { ...next.value, index: end }
      index = end + 1 + next.value.chunkCount
      continue
    }
    if (entry.kind === 'proposal' || entry.kind === 'vote' || entry.kind === 'enact') {
      // Between batches only: never inside receipt + checkpoint + outer-state.
      if (!current || expect === 'checkpoint')
        throw corrupt(index, `${entry.kind} inside a round's close`)
      if (entry.kind === 'proposal') {
        if (entry.value.round !== current.round)
          throw corrupt(index, `proposal names round ${entry.value.round} during ${current.round}`)
        const rec = { index, round: current.round, hash: proposalHash(raw), value: entry.value }
        proposals.set(index, rec)
        governance.proposals.push(rec)
      } else if (entry.kind === 'vote') {
        if (!proposals.has(entry.value.proposal))
          throw corrupt(index, `vote for ${entry.value.proposal}, which is not a proposal`)
        governance.votes.push({ index, round: current.round, value: entry.value })
      } else {
        if (expect !== 'open') throw corrupt(index, 'enact inside an open round')
        if (current.superseded && enacting.length > 0)
          throw corrupt(index, "enact after the new model's checkpoint")
        if (enacting.length === 0) enactStart = index
        const p = entry.value.proposal
        if (!proposals.has(p)) throw corrupt(index, `enact of ${p}, which is not a proposal`)
        if (manifest.recipe.outerUpdates && proposals.get(p)!.value.change.kind === 'model')
          throw corrupt(index, `enact of model amendment ${p} in a project with outer updates`)
        const already = rounds.some((r) => r.enacted?.includes(p)) || enacting.includes(p)
        if (already) throw corrupt(index, `proposal ${p} enacted twice`)
        enacting.push(p)
      }
      index++
      continue
    }
    if (entry.kind === 'checkpoint' || entry.kind === 'outer-update') {
      const round = entry.value.round + (entry.kind === 'outer-update' ? 1 : 0)
      if (expect !== 'checkpoint' || round !== rounds.length)
        throw corrupt(index, `unexpected ${entry.kind} of round ${entry.value.round}`)
      const tornAt = pendingReceipt?.index ?? index
      const group = await readRoundStart({
        manifest,
        get: (i) => block(core, i, opts),
        length: core.length,
        index,
        entry,
        round,
        checkpointIn: current?.checkpoint.contentHash ?? null,
        checkpointOut: pendingReceipt?.value.checkpointOut ?? null,
      })
      if ('torn' in group) {
        torn = { index: tornAt, why: group.torn }
        break
      }
      if (pendingReceipt && current) current.receipt = pendingReceipt.value
      pendingReceipt = null
      rounds.push(group.record)
      index = group.end
      expect = 'open'
      continue
    }
    if (entry.kind === 'round-open') {
      if (expect !== 'open' || !current || entry.value.round !== current.round)
        throw corrupt(index, `unexpected opening of round ${entry.value.round}`)
      if (entry.value.checkpointHash !== current.checkpoint.contentHash)
        throw corrupt(index, `round ${current.round} opens on another checkpoint`)
      const model = enacting.some((p) => proposals.get(p)!.value.change.kind === 'model')
      if (model && !current.superseded)
        throw corrupt(index, "a model amendment enacted without the new model's checkpoint")
      current.open = entry.value
      if (enacting.length > 0) current.enacted = enacting
      enacting = []
      expect = 'receipt'
    } else if (entry.kind === 'receipt') {
      if (expect !== 'receipt' || !current || entry.value.round !== current.round)
        throw corrupt(index, `unexpected receipt of round ${entry.value.round}`)
      if (entry.value.checkpointIn !== current.checkpoint.contentHash)
        throw corrupt(index, `receipt ${current.round} starts from another checkpoint`)
      pendingReceipt = { value: entry.value, index }
      expect = 'checkpoint'
    } else if (entry.kind === 'outer-state') {
      throw corrupt(index, `outer-state ${entry.value.round} outside its checkpoint`)
    } else {
      throw corrupt(index, 'checkpoint chunk outside a checkpoint')
    }
    index++
  }
  if (pendingReceipt && !torn)
    torn = { index: pendingReceipt.index, why: 'receipt without checkpoint' }
  if (enacting.length > 0 && !torn)
    torn = { index: enactStart, why: 'enact without its round-open' }
  if (rounds.length === 0 && torn) throw corrupt(1, 'checkpoint 0 is incomplete')
  if (rounds.length === 0) throw corrupt(1, 'checkpoint 0 is missing')
  if (torn) {
    // Governance entries past a torn tail never were state.
    governance.proposals = governance.proposals.filter((p) => p.index < torn.index)
    governance.votes = governance.votes.filter((v) => v.index < torn.index)
  }
  return {
    key: core.key!.toString('hex'),
    manifest,
    rounds,
    completeLength: torn ? torn.index : index,
    tornTail: torn,
    governance,
  }
}

/** Reads the chunks after `ref`, checks them against the header and decodes the file. */
async function readFile(
  core: Hypercore,
  state: LedgerState,
  ref: CheckpointRef,
  what: string,
  round: number,
  spec: ModelSpec,
  opts: ReadOptions,
): Promise<Checkpoint> {
  const mismatch = (why: string) =>
    new TandemError('LEDGER_CHECKPOINT_MISMATCH', `${what} ${round} does not verify: ${why}`)
  // The header comes from the host: one declaring up to 4 GiB would have us fetch and buffer every
  // chunk before the length check below. The model fixes the file's exact size, so check first.
  const expected = checkpointByteLength(spec)
  if (ref.byteLength !== expected)
    throw mismatch(`the header declares ${ref.byteLength} bytes, the model's file is ${expected}`)
  const parts: Uint8Array[] = []
  let size = 0
  for (let i = 1; i <= ref.chunkCount; i++) {
    const entry = decodeEntry(await block(core, ref.index + i, opts), ref.index + i)
    if (entry.kind !== 'chunk') throw corrupt(ref.index + i, `${what} ${round} chunk missing`)
    size += entry.bytes.byteLength
    if (size > ref.byteLength) throw mismatch(`chunks exceed the ${ref.byteLength} bytes declared`)
    parts.push(entry.bytes)
  }
  const bytes = Buffer.concat(parts)
  if (bytes.length !== ref.byteLength)
    throw mismatch(`${bytes.length} bytes, header says ${ref.byteLength}`)
  // decodeCheckpoint verifies the file's own digest and computes its identity (contentHash); a
  // file that does not verify is this round's mismatch, named as such.
  let checkpoint: Checkpoint
  try {
    checkpoint = decodeCheckpoint(bytes, spec)
  } catch (err) {
    if (
      isTandemError(err) &&
      (err.code === 'CHECKPOINT_CORRUPT' || err.code === 'CHECKPOINT_VERSION')
    ) {
      throw mismatch(err.message)
    }
    throw err
  }
  if (checkpoint.contentHash !== ref.contentHash)
    throw mismatch('content hash differs from the ledger header')
  if (checkpoint.round !== round) throw mismatch(`the file says round ${checkpoint.round}`)
  return checkpoint
}

/** Options of readCheckpoint. */
export interface CheckpointReadOptions extends ReadOptions {
  /**
   * A checkpoint the caller already holds: in an outer-update project, checkpoint `round` is then
   * rebuilt from it with the outer updates since when that reads less (checkpoint-chain.ts).
   */
  from?: HeldCheckpoint
}

/**
 * The model round `round` trains: the manifest's, or the last model amendment in effect by then. A
 * round's checkpoint and outer-state are files of that model (a superseded pair: the round before).
 */
export function modelAt(state: LedgerState, round: number): ModelSpec {
  return effectiveManifest(state, round).model
}

/**
 * Fetches checkpoint `round`, checks its bytes against the header's hash, then decodes it against the
 * model in effect in that round (modelAt). A swapped or altered chunk is LEDGER_CHECKPOINT_MISMATCH naming the round.
 * In an outer-update project a checkpoint without a stored file is rebuilt from the last stored
 * one (or `from`) and the outer updates since, each step checked against the ledger's hash.
 */
export async function readCheckpoint(
  core: Hypercore,
  state: LedgerState,
  round: number,
  opts: CheckpointReadOptions = {},
): Promise<Checkpoint> {
  const ref = state.rounds[round]?.checkpoint
  if (!ref) throw new TandemError('NOT_FOUND', `the ledger has no checkpoint ${round}`)
  const stored = (k: number) => {
    const r = state.rounds[k]!.checkpoint
    if ('derived' in r) throw new TandemError('INTERNAL', `checkpoint ${k} is not stored`)
    return readFile(core, state, r, 'checkpoint', k, modelAt(state, k), opts)
  }
  const held = chainFrom(state, round, opts.from)
  if ('derived' in ref || held)
    return readChained((i) => block(core, i, opts), state, round, stored, held)
  return stored(round)
}

/** One zero per parameter of `spec`: the momentum and residual entering round 0. */
function zerosOf(spec: ModelSpec): Float32Array {
  return new Float32Array(paramLayout(spec).reduce((sum, p) => sum + sizeOf(p.shape), 0))
}

/**
 * The host's error-feedback residual entering `round` of an outer-update project: zeros for round
 * 0, otherwise outer-residual `round`, checked like a checkpoint.
 */
export function readOuterResidual(
  core: Hypercore,
  state: LedgerState,
  round: number,
  opts: ReadOptions = {},
): Promise<Float32Array> {
  return readRoundVector(core, state, round, 'outer-residual', (r) => r.outerResidual, opts)
}

/**
 * The outer Nesterov momentum entering `round`: zeros for round 0, otherwise outer-state `round`,
 * checked like a checkpoint (LEDGER_CHECKPOINT_MISMATCH naming the round when it does not verify).
 */
export function readOuterState(
  core: Hypercore,
  state: LedgerState,
  round: number,
  opts: ReadOptions = {},
): Promise<Float32Array> {
  return readRoundVector(core, state, round, 'outer-state', (r) => r.outerState, opts)
}

/** A per-round vector file of the model in effect: zeros for round 0 when the ledger has none. */
async function readRoundVector(
  core: Hypercore,
  state: LedgerState,
  round: number,
  kind: 'outer-state' | 'outer-residual',
  pick: (record: RoundRecord) => CheckpointRef | undefined,
  opts: ReadOptions,
): Promise<Float32Array> {
  const record = state.rounds[round]
  if (!record) throw new TandemError('NOT_FOUND', `the ledger has no round ${round}`)
  const spec = modelAt(state, round)
  const ref = pick(record)
  if (!ref) {
    if (round === 0) return zerosOf(spec)
    throw new TandemError('NOT_FOUND', `the ledger has no ${kind} ${round}`)
  }
  return (await readFile(core, state, ref, kind, round, spec, opts)).weights
}
