/**
 * Contributor update cores. Each contributor keeps ONE hypercore per project in its own corestore,
 * named `updates/<project hex>` so the same store always reopens the same core. Every update it
 * publishes is one append batch:
 *
 *   block start        u8 kind 1, JSON {v, project, round, checkpointHash, samples, byteLength,
 *                      hash, chunkCount}; `hash` is SHA-256 of the encoded Δ (codec.ts bytes)
 *   start+1 … +count   u8 kind 2, then ≤ UPDATE_CHUNK_BYTES of the encoded Δ (all full but the last)
 *
 * An updateOffer points at it: {start, length: 1 + chunkCount, byteLength, hash}. The host reads it
 * with `fetchUpdate`, which treats every block as peer input: the header is size-capped, schema-
 * checked and compared with the offer before any chunk is downloaded, and every fault is a coded
 * UPDATE_* error, never a native one.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import { LIMITS } from '../wire/check.js'

export const UPDATE_VERSION = 1
export const UPDATE_CHUNK_BYTES = 1 << 20
/** A header is a few hundred bytes; anything near this is not one. */
export const MAX_UPDATE_HEADER_BYTES = 4096
/** The most an updateOffer may announce (wire limit). */
export const MAX_UPDATE_BYTES = LIMITS.maxOfferBytes
export const UpdateBlockKind = { header: 1, chunk: 2 } as const

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const Uint32 = z.number().int().min(0).max(0xffffffff)

const UpdateHeader = z
  .object({
    v: z.literal(UPDATE_VERSION),
    project: Hex32,
    round: Uint32,
    checkpointHash: Hex32,
    samples: z.number().int().min(0).max(LIMITS.maxSamples),
    // ≥ 2 so that byteLength ≥ blocks (1 + chunkCount), as the wire requires of an offer.
    byteLength: z.number().int().min(2).max(MAX_UPDATE_BYTES),
    hash: Hex32,
    chunkCount: z.number().int().min(1),
  })
  .strict()
  .refine((h) => h.chunkCount === Math.ceil(h.byteLength / UPDATE_CHUNK_BYTES), {
    message: 'chunkCount does not match byteLength',
  })

export type UpdateHeader = z.infer<typeof UpdateHeader>

/** What an updateOffer carries to point at one published update (besides project, round, core). */
export interface UpdateRef {
  start: number
  length: number
  byteLength: number
  /** SHA-256 of the encoded bytes, 32 bytes. */
  hash: Uint8Array
}

export interface PublishInput {
  project: Uint8Array | string
  round: number
  checkpointHash: Uint8Array | string
  samples: number
  /** The encoded Δ (core/engine/compress/codec.ts). */
  encoded: Uint8Array
}

export interface FetchInput {
  start: number
  length: number
  /** The offer's byteLength; checked against the header when given. */
  byteLength?: number
  expectedHash: Uint8Array | string
  project: Uint8Array | string
  round: number
  /** Largest encoded update the host accepts; checked before any chunk is downloaded. */
  maxBytes: number
  /** ms for the whole fetch; 0 or absent waits for peers indefinitely. */
  timeout?: number
}

export interface FetchedUpdate {
  header: UpdateHeader
  encoded: Uint8Array
}

const hex = (v: Uint8Array | string): string =>
  typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')

function hexArg(v: Uint8Array | string, what: string): string {
  const s = hex(v)
  if (!/^[0-9a-f]{64}$/.test(s)) throw new TandemError('BAD_ARGUMENT', `${what} is not 32 bytes`)
  return s
}

/** The name of a contributor's update core for a project, within its own corestore. */
export function updateCoreName(project: Uint8Array | string): string {
  return `updates/${hex(project)}`
}

/** Opens (creating if needed) this store's update core for a project. Caller closes it. */
export async function openUpdateCore(
  store: Corestore,
  project: Uint8Array | string,
): Promise<Hypercore> {
  const core = store.get({ name: updateCoreName(hexArg(project, 'project')) })
  await core.ready()
  return core
}

export function encodeUpdateHeader(h: Omit<UpdateHeader, 'v'>): Buffer {
  const parsed = UpdateHeader.safeParse({ v: UPDATE_VERSION, ...h })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TandemError(
      'BAD_ARGUMENT',
      `invalid update header at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    )
  }
  return Buffer.concat([
    Buffer.of(UpdateBlockKind.header),
    Buffer.from(JSON.stringify(parsed.data)),
  ])
}

const invalid = (index: number, why: string, cause?: unknown) =>
  new TandemError(
    'UPDATE_INVALID',
    `update block ${index} is invalid: ${why}`,
    cause === undefined ? undefined : { cause },
  )

/** Decodes an update header block. Throws UPDATE_INVALID for anything malformed. */
export function decodeUpdateHeader(block: Uint8Array, index = 0): UpdateHeader {
  if (block.byteLength > MAX_UPDATE_HEADER_BYTES)
    throw invalid(index, `header of ${block.byteLength} bytes`)
  if (block.byteLength < 1 || block[0] !== UpdateBlockKind.header)
    throw invalid(index, 'not an update header')
  let value: unknown
  try {
    value = JSON.parse(
      Buffer.from(block.buffer, block.byteOffset + 1, block.byteLength - 1).toString('utf8'),
    )
  } catch (err) {
    throw invalid(index, 'header is not JSON', err)
  }
  const parsed = UpdateHeader.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalid(index, `${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
  }
  return parsed.data
}

/** Header plus chunk blocks of one update, to append as a single (atomic) batch. */
export function updateBlocks(input: PublishInput): { blocks: Buffer[]; hash: Buffer } {
  const { encoded } = input
  const chunks: Buffer[] = []
  for (let o = 0; o < encoded.byteLength; o += UPDATE_CHUNK_BYTES) {
    const part = encoded.subarray(o, Math.min(encoded.byteLength, o + UPDATE_CHUNK_BYTES))
    chunks.push(Buffer.concat([Buffer.of(UpdateBlockKind.chunk), part]))
  }
  const hash = createHash('sha256').update(encoded).digest()
  const header = encodeUpdateHeader({
    project: hex(input.project),
    round: input.round,
    checkpointHash: hex(input.checkpointHash),
    samples: input.samples,
    byteLength: encoded.byteLength,
    hash: hash.toString('hex'),
    chunkCount: chunks.length,
  })
  return { blocks: [header, ...chunks], hash }
}

/**
 * Appends one update to the contributor's own update core in a single batch and returns what an
 * updateOffer needs to point at it.
 */
export async function publishUpdate(core: Hypercore, input: PublishInput): Promise<UpdateRef> {
  await core.ready()
  if (!core.writable) throw new TandemError('WRONG_STATE', 'the update core is not writable here')
  const { blocks, hash } = updateBlocks(input)
  const { length } = await core.append(blocks)
  return {
    start: length - blocks.length,
    length: blocks.length,
    byteLength: input.encoded.byteLength,
    hash: new Uint8Array(hash),
  }
}

function unavailable(index: number, why: string, cause?: unknown): TandemError {
  return new TandemError(
    'UPDATE_UNAVAILABLE',
    `update block ${index} is not available: ${why}`,
    cause === undefined ? undefined : { cause },
  )
}

/** One block, waiting for peers until the fetch's deadline (0: no deadline). */
async function block(core: Hypercore, index: number, deadline: number): Promise<Buffer> {
  let timeout = 0
  if (deadline > 0) {
    timeout = deadline - Date.now()
    if (timeout <= 0) throw unavailable(index, 'timed out')
  }
  let value: Buffer | null
  try {
    value = await core.get(index, { wait: true, timeout })
  } catch (err) {
    throw unavailable(index, (err as Error)?.message ?? String(err), err)
  }
  if (value === null) throw unavailable(index, 'not stored here')
  return value
}

/**
 * Host side: downloads exactly the blocks an offer names from the contributor's update core
 * (sparse), checks the header against the offer and the size cap before fetching any chunk, then
 * reassembles the encoded Δ and checks its SHA-256. The offer's numbers come from a peer: a layout
 * that cannot be is UPDATE_INVALID, a header that disagrees with the offer UPDATE_MISMATCH, an
 * update above `maxBytes` UPDATE_TOO_LARGE, blocks that do not arrive in time UPDATE_UNAVAILABLE.
 */
export async function fetchUpdate(core: Hypercore, input: FetchInput): Promise<FetchedUpdate> {
  const { start, length, round, maxBytes } = input
  const project = hexArg(input.project, 'project')
  const expectedHash = hexArg(input.expectedHash, 'expectedHash')
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new TandemError('BAD_ARGUMENT', 'maxBytes must be a positive integer')
  const timeout = input.timeout ?? 0
  if (!Number.isFinite(timeout) || timeout < 0)
    throw new TandemError('BAD_ARGUMENT', 'timeout must be ≥ 0 ms')
  const deadline = timeout > 0 ? Date.now() + timeout : 0

  // The offer's shape: a header plus at least one chunk, inside uint32 block indexes.
  if (!Number.isSafeInteger(start) || start < 0 || start > 0xffffffff)
    throw new TandemError('UPDATE_INVALID', `offer start ${String(start)} is not a block index`)
  if (!Number.isSafeInteger(length) || length < 2 || length > LIMITS.maxOfferBlocks)
    throw new TandemError('UPDATE_INVALID', `offer length ${String(length)} is not 2…65536 blocks`)
  if (start + length > 0x1_0000_0000)
    throw new TandemError('UPDATE_INVALID', 'offer runs past the largest block index')
  const byteLength = input.byteLength
  if (byteLength !== undefined) {
    if (!Number.isSafeInteger(byteLength) || byteLength < length)
      throw new TandemError('UPDATE_INVALID', `offer byteLength ${String(byteLength)} is invalid`)
    if (byteLength > maxBytes)
      throw new TandemError('UPDATE_TOO_LARGE', `offer of ${byteLength} bytes > ${maxBytes}`)
    if (Math.ceil(byteLength / UPDATE_CHUNK_BYTES) !== length - 1)
      throw new TandemError(
        'UPDATE_MISMATCH',
        `offer of ${byteLength} bytes cannot span ${length} blocks`,
      )
  }
  if ((length - 2) * UPDATE_CHUNK_BYTES >= maxBytes)
    throw new TandemError('UPDATE_TOO_LARGE', `offer of ${length} blocks exceeds ${maxBytes} bytes`)

  await core.ready()
  const header = decodeUpdateHeader(await block(core, start, deadline), start)
  const differs = (what: string, got: unknown, want: unknown) =>
    new TandemError(
      'UPDATE_MISMATCH',
      `update at block ${start}: ${what} is ${String(got)}, offer says ${String(want)}`,
    )
  if (header.project !== project) throw differs('project', header.project, project)
  if (header.round !== round) throw differs('round', header.round, round)
  if (header.hash !== expectedHash) throw differs('hash', header.hash, expectedHash)
  if (header.chunkCount + 1 !== length) throw differs('block count', header.chunkCount + 1, length)
  if (byteLength !== undefined && header.byteLength !== byteLength)
    throw differs('byteLength', header.byteLength, byteLength)
  if (header.byteLength > maxBytes)
    throw new TandemError('UPDATE_TOO_LARGE', `update of ${header.byteLength} bytes > ${maxBytes}`)

  // Only now fetch the chunks, all requested at once; `get` then waits for each in turn.
  const range = core.download({ start: start + 1, end: start + length })
  try {
    const out = new Uint8Array(header.byteLength)
    let offset = 0
    for (let i = 1; i < length; i++) {
      const index = start + i
      const b = await block(core, index, deadline)
      if (b.byteLength < 1 || b[0] !== UpdateBlockKind.chunk)
        throw invalid(index, 'not an update chunk')
      const want = Math.min(UPDATE_CHUNK_BYTES, header.byteLength - offset)
      if (b.byteLength - 1 !== want)
        throw invalid(index, `chunk of ${b.byteLength - 1} bytes, expected ${want}`)
      out.set(b.subarray(1), offset)
      offset += want
    }
    const digest = createHash('sha256').update(out).digest('hex')
    if (digest !== expectedHash)
      throw new TandemError('UPDATE_MISMATCH', `update at block ${start} does not match its hash`)
    return { header, encoded: out }
  } finally {
    range.destroy()
  }
}

/** The header of the last update in an update core that is here locally, with its index. */
export async function lastUpdateHeader(
  core: Hypercore,
): Promise<{ index: number; header: UpdateHeader } | null> {
  for (let i = core.length - 1; i >= 0; i--) {
    const block = await core.get(i, { wait: false })
    if (!block) return null
    if (block[0] === UpdateBlockKind.header)
      return { index: i, header: decodeUpdateHeader(block, i) }
  }
  return null
}
