/**
 * The governance entries of a ledger (docs/governance.md). Three kinds, all JSON like the others
 * (entries.ts encodes and decodes them):
 *
 *   6 proposal  {v, round, proposedAt, title, change}: the host proposes a change while round
 *               `round` is the ledger's current round; the ledger's own signature (the host key)
 *               makes it the host's statement. Its id is its block index.
 *   7 vote      {v, proposal, proposalHash, voter, choice, signature}: a contributor's vote, signed
 *               with its node key, carried to the host on the wire and recorded here by the host.
 *   8 enact     {v, proposal}: written in the same batch as round-open r, in front of it: from round
 *               r on the change is in effect. Only a passed proposal may be enacted, and only after
 *               its voting period (verify.ts checks both).
 *
 * A `model` change is the only one that alters the checkpoints' shape: its enact batch carries the
 * new model's starting checkpoint (swap-changes.ts).
 */
import { createHash } from 'node:crypto'
import crypto from 'hypercore-crypto'
import { z } from 'zod'
import type { VoteMessage } from '../wire/messages.js'
import { Charter, HostIdentity } from './charter.js'
import { DatasetChange, ModelChange } from './swap-changes.js'

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const Hex64 = z.string().regex(/^[0-9a-f]{128}$/)
const Round = z.number().int().min(0).max(0xffffffff)
const Index = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
const Time = z.number().int().min(0).max(8.64e15)

export const AGGREGATION_RULES = [
  'centered-clip',
  'mean',
  'median',
  'trimmed-mean',
  'multi-krum',
] as const

/** What an amendment changes. */
export const Change = z.discriminatedUnion('kind', [
  /** The whole charter replaced (purpose, prohibited uses, licence, data sources, host, policy). */
  z.object({ kind: z.literal('charter'), charter: Charter }).strict(),
  /** The licence of the weights and who may download them. */
  z
    .object({
      kind: z.literal('licence'),
      licence: z.string().trim().min(1).max(200),
      download: z.enum(['everyone', 'contributors', 'nobody']),
    })
    .strict(),
  /** The aggregation rule the host closes rounds with. */
  z.object({ kind: z.literal('aggregation'), rule: z.enum(AGGREGATION_RULES) }).strict(),
  /** Host-side recipe settings: the outer optimizer and the round's timing and size. */
  z
    .object({
      kind: z.literal('recipe'),
      outer: z
        .object({
          lr: z.number().positive().max(10),
          momentum: z.number().min(0).max(0.999),
        })
        .strict()
        .optional(),
      roundDeadlineSec: z
        .number()
        .int()
        .min(5)
        .max(7 * 86_400)
        .optional(),
      minUpdates: z.number().int().min(1).max(10_000).optional(),
      maxUpdates: z.number().int().min(1).max(10_000).optional(),
    })
    .strict(),
  /** Adding or replacing the keys (and name, contact) of the accountable host. */
  z.object({ kind: z.literal('host'), host: HostIdentity }).strict(),
  /** Another dataset core to train and validate on (swap-changes.ts). */
  DatasetChange,
  /** Another model, with the seed of its starting weights (swap-changes.ts). */
  ModelChange,
])
export type Change = z.infer<typeof Change>

export const Proposal = z.object({
  v: z.literal(1),
  /** The ledger's current round when proposed: the policy in force then decides. */
  round: Round,
  proposedAt: Time,
  title: z.string().trim().min(1).max(200),
  change: Change,
})
export type Proposal = z.infer<typeof Proposal>

export const VoteChoice = z.enum(['yes', 'no'])
export type VoteChoice = z.infer<typeof VoteChoice>

export const Vote = z.object({
  v: z.literal(1),
  /** Block index of the proposal. */
  proposal: Index,
  /** SHA-256 of the proposal's block: the vote is for exactly that text. */
  proposalHash: Hex32,
  voter: Hex32,
  choice: VoteChoice,
  /** Ed25519 by `voter` over voteSignable(project, …). */
  signature: Hex64,
})
export type Vote = z.infer<typeof Vote>

export const Enact = z.object({ v: z.literal(1), proposal: Index })
export type Enact = z.infer<typeof Enact>

/** The changes that alter a contributor's terms (purpose, licence, data): dissenters pause. */
export function changesTerms(change: Change): boolean {
  return change.kind === 'charter' || change.kind === 'licence' || change.kind === 'dataset'
}

export function proposalHash(block: Uint8Array): string {
  return createHash('sha256').update(block).digest('hex')
}

const VOTE_NAMESPACE = Buffer.from('tandem/vote/v1\0')

/** The bytes a vote's signature covers: a namespace, the project, and the vote's fields. */
export function voteSignable(project: string, v: Omit<Vote, 'v' | 'signature'>): Buffer {
  // Fixed-size fields in a fixed order: namespace, project, proposal (u64 BE), hash, voter, choice.
  const index = Buffer.alloc(8)
  index.writeBigUInt64BE(BigInt(v.proposal))
  return Buffer.concat([
    VOTE_NAMESPACE,
    Buffer.from(project, 'hex'),
    index,
    Buffer.from(v.proposalHash, 'hex'),
    Buffer.from(v.voter, 'hex'),
    Buffer.of(v.choice === 'yes' ? 1 : 0),
  ])
}

export function signVote(
  project: string,
  v: Omit<Vote, 'v' | 'signature' | 'voter'>,
  keyPair: { publicKey: Buffer; secretKey: Buffer },
): Vote {
  const fields = { ...v, voter: keyPair.publicKey.toString('hex') }
  const signature = crypto.sign(voteSignable(project, fields), keyPair.secretKey)
  return { v: 1, ...fields, signature: Buffer.from(signature).toString('hex') }
}

/** Whether `vote.signature` is the voter's over this project's vote (false, never a throw). */
export function voteSignatureValid(project: string, vote: Vote): boolean {
  try {
    return crypto.verify(
      voteSignable(project, vote),
      Buffer.from(vote.signature, 'hex'),
      Buffer.from(vote.voter, 'hex'),
    )
  } catch {
    return false // sodium throws on malformed keys: that is a bad signature too
  }
}

/** A vote as the wire's `vote` message carries it (core/wire/messages.ts). */
export function voteToWire(vote: Vote, project: string): VoteMessage {
  return {
    project: Buffer.from(project, 'hex'),
    proposal: vote.proposal,
    proposalHash: Buffer.from(vote.proposalHash, 'hex'),
    voter: Buffer.from(vote.voter, 'hex'),
    choice: vote.choice === 'yes' ? 1 : 0,
    signature: Buffer.from(vote.signature, 'hex'),
  }
}

export function voteFromWire(m: VoteMessage): Vote {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
  return {
    v: 1,
    proposal: m.proposal,
    proposalHash: hex(m.proposalHash),
    voter: hex(m.voter),
    choice: m.choice === 1 ? 'yes' : 'no',
    signature: hex(m.signature),
  }
}

/** What the host's ack of a vote names (`ack.ref`): SHA-256 of its signature. */
export function voteRef(vote: Pick<Vote, 'signature'>): Buffer {
  return createHash('sha256').update(Buffer.from(vote.signature, 'hex')).digest()
}
