/**
 * Which training shards a contributor works on in a round: a pure function of (project, round,
 * contributor, shard count), so the host recomputes and checks it and nobody picks their own data.
 *
 * Rendezvous hashing: every shard gets a score SHA-256("tandem/assign/v1" ‖ project ‖ round ‖
 * contributor ‖ shard), and the contributor takes the `count` lowest. Each (round, contributor)
 * sees an independent uniform ranking, a larger `count` only extends the list, and no shared
 * state or membership list is needed. Precisely specified in docs/dataset-format.md.
 */
import { createHash } from 'node:crypto'
import { TandemError } from '../api/errors.js'

const DOMAIN = Buffer.from('tandem/assign/v1', 'utf8')

export interface AssignmentInput {
  /** The project's key (its ledger core key), 32 bytes. */
  projectKey: Uint8Array
  /** The contributor's public key, 32 bytes. */
  contributorKey: Uint8Array
  round: number
  /** Training shards in the dataset (header.shards − header.validation.shards). */
  shardCount: number
  /** How many shards to assign (capped at shardCount). */
  count: number
}

function checkKey(key: Uint8Array, what: string): void {
  if (key.byteLength !== 32) throw new TandemError('BAD_ARGUMENT', `${what} must be 32 bytes`)
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n, 0)
  return b
}

/** The score of one shard: the first 8 bytes of the hash, as an unsigned big-endian integer. */
export function shardScore(
  input: Omit<AssignmentInput, 'count' | 'shardCount'>,
  shard: number,
): bigint {
  return createHash('sha256')
    .update(DOMAIN)
    .update(input.projectKey)
    .update(u32(input.round))
    .update(input.contributorKey)
    .update(u32(shard))
    .digest()
    .readBigUInt64BE(0)
}

/** The assigned shards, best-ranked first: the order to train (and prefetch) them in. */
export function assignShards(input: AssignmentInput): number[] {
  checkKey(input.projectKey, 'project key')
  checkKey(input.contributorKey, 'contributor key')
  const { round, shardCount, count } = input
  if (!Number.isInteger(round) || round < 0 || round > 0xffffffff) {
    throw new TandemError('BAD_ARGUMENT', 'round must be an integer in [0, 2^32)')
  }
  if (!Number.isInteger(shardCount) || shardCount < 0 || shardCount > 0xffffffff) {
    throw new TandemError('BAD_ARGUMENT', 'shardCount must be a non-negative integer')
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new TandemError('BAD_ARGUMENT', 'count must be a non-negative integer')
  }
  const scored = Array.from({ length: shardCount }, (_, shard) => ({
    shard,
    score: shardScore(input, shard),
  }))
  scored.sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : a.shard - b.shard))
  return scored.slice(0, Math.min(count, shardCount)).map((s) => s.shard)
}

/** The host's check: exactly the shards the contributor should have trained on, in any order. */
export function isValidAssignment(input: AssignmentInput, claimed: number[]): boolean {
  const expected = new Set(assignShards(input))
  return claimed.length === expected.size && claimed.every((s) => expected.has(s))
}
