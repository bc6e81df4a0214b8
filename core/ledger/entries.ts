/**
 * Ledger entry format. A project's ledger is one hypercore:
 *
 *   block 0         the manifest, UTF-8 JSON (manifest.ts); it starts with "{", never a kind byte
 *   block i > 0     u8 kind, then the body:
 *     1 checkpoint  JSON {v, round, contentHash, byteLength, chunkCount}; followed by exactly
 *                   chunkCount chunk blocks holding the checkpoint file (core/engine/checkpoint.ts)
 *     2 chunk       raw bytes of one checkpoint slice (CHUNK_BYTES, the last one shorter)
 *     3 round-open  JSON {v, round, openedAt, deadline, checkpointHash, assignmentSeed}
 *     4 receipt     JSON {v, round, closedAt, deadline?, checkpointIn, checkpointOut, rule,
 *                   contributions}; `deadline` is the one the round closed under (the round-open
 *                   deadline or a later extension) and each contribution's `receivedAt` says when
 *                   the host took its offer, so lateness can be checked (absent in older ledgers)
 *     5 outer-state JSON like a checkpoint header; followed by chunkCount chunk blocks holding the
 *                   outer Nesterov momentum entering that round, framed as a checkpoint file
 *                   (encodeCheckpoint(model, round, momentum)). Round 0 has none (zeros).
 *     6 proposal    JSON {v, round, proposedAt, title, change}   (amendments.ts, governance)
 *     7 vote        JSON {v, proposal, proposalHash, voter, choice, signature}
 *     8 enact       JSON {v, proposal}; in front of the round-open it takes effect at
 *     9 outer-update JSON {v, round, checkpointIn, checkpointOut, byteLength, chunkCount, hash}; then
 *                   chunkCount chunk blocks holding U_round, the compressed outer update (codec.ts
 *                   bytes; `hash` their SHA-256). Checkpoint round+1 is checkpointIn + D(U) in
 *                   float32 (engine/compress/outer-update.ts); only in projects whose recipe has
 *                   outerUpdates, where it replaces the checkpoint of rounds that are not full
 *    10 outer-residual like outer-state: the host's error-feedback residual entering that round,
 *                   framed as a checkpoint file (outer-update projects, rounds > 0)
 *
 * A ledger comes from the network, so every block is size-capped and schema-checked on read; any
 * deviation is LEDGER_CORRUPT, never a partly parsed value. Chunks carry a kind byte too, so a reader
 * can tell a torn checkpoint (a header whose chunks are missing) from a well-framed one. New kinds and
 * new optional fields may be added: readers drop JSON fields they do not know (zod's default), so
 * an older node still follows a newer host's ledger; `v` changes only when a reader must refuse.
 */
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import { Enact, Proposal, Vote } from './amendments.js'

export const ENTRY_VERSION = 1
export const CHUNK_BYTES = 1 << 20
/** Largest JSON entry: a receipt of 10,000 contributions stays well below it. */
export const MAX_ENTRY_BYTES = 8 << 20
/** Checkpoints above 4 GiB are beyond any spec the engine accepts. */
export const MAX_CHECKPOINT_BYTES = 2 ** 32

export const EntryKind = {
  checkpoint: 1,
  chunk: 2,
  roundOpen: 3,
  receipt: 4,
  outerState: 5,
  proposal: 6,
  vote: 7,
  enact: 8,
  outerUpdate: 9,
  outerResidual: 10,
} as const

export const REJECTION_REASONS = [
  'non-finite',
  'wrong-shape',
  'norm-outlier',
  'harmful',
  'late',
  'duplicate',
  'near-duplicate',
  'replayed',
  'bad-signature',
  /** recipe.outer.overlap only: trained from neither checkpoint r nor r − 1 (core/host/rebase.ts). */
  'stale-base',
] as const
export type RejectionReason = (typeof REJECTION_REASONS)[number]

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const Round = z.number().int().min(0).max(0xffffffff)
const Time = z.number().int().min(0).max(8.64e15)
const Finite = z.number().finite()

const CheckpointHeader = z
  .object({
    v: z.literal(ENTRY_VERSION),
    round: Round,
    contentHash: Hex32,
    byteLength: z.number().int().min(1).max(MAX_CHECKPOINT_BYTES),
    chunkCount: z.number().int().min(1),
  })
  .refine((h) => h.chunkCount === Math.ceil(h.byteLength / CHUNK_BYTES), {
    message: 'chunkCount does not match byteLength',
  })

const RoundOpen = z
  .object({
    v: z.literal(ENTRY_VERSION),
    round: Round,
    openedAt: Time,
    deadline: Time,
    checkpointHash: Hex32,
    assignmentSeed: Hex32,
  })
  .refine((o) => o.deadline >= o.openedAt, { message: 'deadline before openedAt' })

const OuterUpdateHeader = z
  .object({
    v: z.literal(ENTRY_VERSION),
    round: Round,
    checkpointIn: Hex32,
    checkpointOut: Hex32,
    byteLength: z.number().int().min(1).max(MAX_CHECKPOINT_BYTES),
    chunkCount: z.number().int().min(1),
    hash: Hex32,
  })
  .refine((h) => h.chunkCount === Math.ceil(h.byteLength / CHUNK_BYTES), {
    message: 'chunkCount does not match byteLength',
  })

export const Score = z.object({
  lossBefore: Finite,
  lossAfter: Finite,
  cosine: Finite,
  normRatio: Finite,
  /**
   * Scoring v2 only: standard error of the mean per-record loss difference on the validation
   * batch (core/host/scoring.ts); absent in v1 receipts.
   */
  lossSE: Finite.min(0).optional(),
  /**
   * Scoring v3 only, accepted updates of rounds with 3 or more: the update's distance to the mean
   * of the other accepted updates over the round's median such distance (core/host/scoring.ts,
   * spreads). Far under 1: closer to the consensus than independent work lands (ALIE).
   */
  spread: Finite.min(0).optional(),
})

const Contribution = z
  .object({
    contributor: Hex32,
    updateCore: Hex32,
    updateIndex: z.number().int().min(0),
    updateHash: Hex32,
    samples: z.number().int().min(0),
    /** When the host received the offer (its clock, ms); `late` ⇔ after the receipt's deadline. */
    receivedAt: Time.optional(),
    /** Absent when the update was rejected before it could be scored. */
    score: Score.optional(),
    quality: z.number().min(0).max(1),
    credits: z.number().min(0).finite(),
    accepted: z.boolean(),
    reason: z.enum(REJECTION_REASONS).optional(),
    /**
     * recipe.outer.overlap only: the round whose checkpoint the update was trained from (its
     * header's checkpointHash), r or r − 1; r − 1 means it was re-based onto checkpoint r before
     * scoring and aggregation (core/host/rebase.ts). Absent when the host had no bytes for it.
     */
    baseRound: Round.optional(),
  })
  .refine((c) => c.accepted === (c.reason === undefined), {
    message: 'a rejected contribution needs a reason, an accepted one has none',
  })
  .refine((c) => c.accepted || c.credits === 0, { message: 'a rejected contribution earns 0' })

const Receipt = z.object({
  v: z.literal(ENTRY_VERSION),
  round: Round,
  closedAt: Time,
  /** The deadline the round closed under: round-open's, or later when the host extended it. */
  deadline: Time.optional(),
  checkpointIn: Hex32,
  checkpointOut: Hex32,
  rule: z.string().min(1).max(40),
  contributions: z.array(Contribution).max(10_000),
})

export type CheckpointHeader = z.infer<typeof CheckpointHeader>
export type RoundOpen = z.infer<typeof RoundOpen>
export type OuterUpdateHeader = z.infer<typeof OuterUpdateHeader>
export type Score = z.infer<typeof Score>
export type Contribution = z.infer<typeof Contribution>
export type Receipt = z.infer<typeof Receipt>

export type Entry =
  | { kind: 'checkpoint'; value: CheckpointHeader }
  | { kind: 'chunk'; bytes: Uint8Array }
  | { kind: 'round-open'; value: RoundOpen }
  | { kind: 'receipt'; value: Receipt }
  /** Same header shape as a checkpoint's: the momentum is framed as a checkpoint file. */
  | { kind: 'outer-state'; value: CheckpointHeader }
  | { kind: 'proposal'; value: Proposal }
  | { kind: 'vote'; value: Vote }
  | { kind: 'enact'; value: Enact }
  | { kind: 'outer-update'; value: OuterUpdateHeader }
  /** Same header shape as a checkpoint's: the residual is framed as a checkpoint file. */
  | { kind: 'outer-residual'; value: CheckpointHeader }

export function corrupt(index: number, why: string, cause?: unknown): TandemError {
  return new TandemError(
    'LEDGER_CORRUPT',
    `Ledger block ${index} is invalid: ${why}`,
    cause === undefined ? undefined : { cause },
  )
}

function jsonBlock(kind: number, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8')
  if (body.length + 1 > MAX_ENTRY_BYTES)
    throw new TandemError('BAD_ARGUMENT', `ledger entry of ${body.length} bytes is too large`)
  return Buffer.concat([Buffer.of(kind), body])
}

/** Encoders validate first: the host must never write what a reader would refuse. */
function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TandemError(
      'BAD_ARGUMENT',
      `invalid ${what} at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    )
  }
  return parsed.data
}

type FileKind =
  typeof EntryKind.checkpoint | typeof EntryKind.outerState | typeof EntryKind.outerResidual

export function encodeCheckpointHeader(
  h: Omit<CheckpointHeader, 'v'>,
  kind: FileKind = EntryKind.checkpoint,
): Buffer {
  return jsonBlock(kind, checked(CheckpointHeader, { v: ENTRY_VERSION, ...h }, 'checkpoint header'))
}

export function encodeChunk(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(EntryKind.chunk), bytes])
}

export function encodeRoundOpen(o: Omit<RoundOpen, 'v'>): Buffer {
  return jsonBlock(EntryKind.roundOpen, checked(RoundOpen, { v: ENTRY_VERSION, ...o }, 'round'))
}

export function encodeReceipt(r: Omit<Receipt, 'v'>): Buffer {
  return jsonBlock(EntryKind.receipt, checked(Receipt, { v: ENTRY_VERSION, ...r }, 'receipt'))
}

export function encodeProposal(p: Omit<Proposal, 'v'>): Buffer {
  return jsonBlock(EntryKind.proposal, checked(Proposal, { v: 1, ...p }, 'proposal'))
}

export function encodeVote(vote: Vote): Buffer {
  return jsonBlock(EntryKind.vote, checked(Vote, vote, 'vote'))
}

export function encodeEnact(proposal: number): Buffer {
  return jsonBlock(EntryKind.enact, checked(Enact, { v: 1, proposal }, 'enact'))
}

function chunkBlocks(bytes: Uint8Array): Buffer[] {
  const chunks: Buffer[] = []
  for (let o = 0; o < bytes.byteLength; o += CHUNK_BYTES)
    chunks.push(encodeChunk(bytes.subarray(o, Math.min(bytes.byteLength, o + CHUNK_BYTES))))
  return chunks
}

function fileBlocks(
  kind: FileKind,
  round: number,
  file: Uint8Array,
  contentHash: string,
): Buffer[] {
  const chunks = chunkBlocks(file)
  const header = encodeCheckpointHeader(
    { round, contentHash, byteLength: file.byteLength, chunkCount: chunks.length },
    kind,
  )
  return [header, ...chunks]
}

/** Header plus chunk blocks of one checkpoint file, to append as a single (atomic) batch. */
export function checkpointBlocks(round: number, file: Uint8Array, contentHash: string): Buffer[] {
  return fileBlocks(EntryKind.checkpoint, round, file, contentHash)
}

/** Header plus chunk blocks of one outer-state file (the momentum as a checkpoint file). */
export function outerStateBlocks(round: number, file: Uint8Array, contentHash: string): Buffer[] {
  return fileBlocks(EntryKind.outerState, round, file, contentHash)
}

/** Header plus chunk blocks of the host's error-feedback residual entering `round`. */
export function outerResidualBlocks(
  round: number,
  file: Uint8Array,
  contentHash: string,
): Buffer[] {
  return fileBlocks(EntryKind.outerResidual, round, file, contentHash)
}

/** Header plus chunk blocks of outer update `round` (U_round: encoded bytes and their hash). */
export function outerUpdateBlocks(
  h: Omit<OuterUpdateHeader, 'v' | 'byteLength' | 'chunkCount'>,
  bytes: Uint8Array,
): Buffer[] {
  const chunks = chunkBlocks(bytes)
  const header = checked(
    OuterUpdateHeader,
    { v: ENTRY_VERSION, ...h, byteLength: bytes.byteLength, chunkCount: chunks.length },
    'outer-update header',
  )
  return [jsonBlock(EntryKind.outerUpdate, header), ...chunks]
}

function parseJson<T>(schema: z.ZodType<T>, block: Buffer, index: number): T {
  let value: unknown
  try {
    value = JSON.parse(block.subarray(1).toString('utf8'))
  } catch (err) {
    throw corrupt(index, 'entry body is not JSON', err)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw corrupt(index, `${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
  }
  return parsed.data
}

/** Decodes block `index` (> 0) of a ledger. Throws LEDGER_CORRUPT for anything malformed. */
export function decodeEntry(block: Uint8Array, index: number): Entry {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength)
  if (buf.length < 1) throw corrupt(index, 'empty block')
  const kind = buf[0]
  if (kind === EntryKind.chunk) {
    if (buf.length - 1 > CHUNK_BYTES) throw corrupt(index, 'chunk is larger than CHUNK_BYTES')
    return { kind: 'chunk', bytes: buf.subarray(1) }
  }
  if (buf.length > MAX_ENTRY_BYTES) throw corrupt(index, `entry of ${buf.length} bytes`)
  switch (kind) {
    case EntryKind.checkpoint:
      return { kind: 'checkpoint', value: parseJson(CheckpointHeader, buf, index) }
    case EntryKind.roundOpen:
      return { kind: 'round-open', value: parseJson(RoundOpen, buf, index) }
    case EntryKind.receipt:
      return { kind: 'receipt', value: parseJson(Receipt, buf, index) }
    case EntryKind.outerState:
      return { kind: 'outer-state', value: parseJson(CheckpointHeader, buf, index) }
    case EntryKind.proposal:
      return { kind: 'proposal', value: parseJson(Proposal, buf, index) }
    case EntryKind.vote:
      return { kind: 'vote', value: parseJson(Vote, buf, index) }
    case EntryKind.enact:
      return { kind: 'enact', value: parseJson(Enact, buf, index) }
    case EntryKind.outerUpdate:
      return { kind: 'outer-update', value: parseJson(OuterUpdateHeader, buf, index) }
    case EntryKind.outerResidual:
      return { kind: 'outer-residual', value: parseJson(CheckpointHeader, buf, index) }
    default:
      throw corrupt(index, `unknown entry kind ${String(kind)}`)
  }
}
