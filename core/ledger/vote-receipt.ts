/**
 * Vote receipts (docs/governance.md, "Vote receipts"): when the host accepts a vote it signs, with
 * the ledger's key, that it did: project, proposal, voter, the vote's hash (voteRef, SHA-256 of the
 * vote's signature, which covers every field of the vote) and the ledger round and time the vote
 * arrived. The voter keeps the receipt beside its vote; anyone holding both can show the host
 * accepted the vote, so a decided proposal whose tally lacks it proves the host left it out
 * (vote-audit.ts). The receipt travels on the wire as `voteReceipt` (core/wire/messages.ts).
 */
import crypto from 'hypercore-crypto'
import { z } from 'zod'
import type { VoteReceiptMessage } from '../wire/messages.js'
import { Vote, voteRef, voteSignatureValid } from './amendments.js'

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const Hex64 = z.string().regex(/^[0-9a-f]{128}$/)

/** What the host signs. `round` is the ledger's current round when the vote arrived, `at` Unix ms. */
export const VoteReceipt = z
  .object({
    v: z.literal(1),
    project: Hex32,
    proposal: z.number().int().min(1).max(0xffffffff),
    voter: Hex32,
    voteHash: Hex32,
    round: z.number().int().min(0).max(0xffffffff),
    at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** Ed25519 by the ledger's host key over voteReceiptSignable(…). */
    signature: Hex64,
  })
  .strict()
export type VoteReceipt = z.infer<typeof VoteReceipt>

/** A receipt with the vote it is for: what a voter keeps and publishes. */
export const ReceiptedVote = z.object({ receipt: VoteReceipt, vote: Vote }).strict()
export type ReceiptedVote = z.infer<typeof ReceiptedVote>

const NAMESPACE = Buffer.from('tandem/vote-receipt/v1\0')

/**
 * The bytes a receipt's signature covers: namespace ‖ project(32) ‖ proposal (u64 BE) ‖ voter(32) ‖
 * voteHash(32) ‖ round (u64 BE) ‖ at (u64 BE). Fixed sizes, fixed order, like voteSignable.
 */
export function voteReceiptSignable(r: Omit<VoteReceipt, 'v' | 'signature'>): Buffer {
  const u64 = (n: number) => {
    const b = Buffer.alloc(8)
    b.writeBigUInt64BE(BigInt(n))
    return b
  }
  return Buffer.concat([
    NAMESPACE,
    Buffer.from(r.project, 'hex'),
    u64(r.proposal),
    Buffer.from(r.voter, 'hex'),
    Buffer.from(r.voteHash, 'hex'),
    u64(r.round),
    u64(r.at),
  ])
}

export function signVoteReceipt(
  fields: Omit<VoteReceipt, 'v' | 'signature'>,
  secretKey: Uint8Array,
): VoteReceipt {
  const signature = crypto.sign(voteReceiptSignable(fields), secretKey)
  return { v: 1, ...fields, signature: Buffer.from(signature).toString('hex') }
}

/** Whether `host` signed this receipt (false, never a throw). */
export function voteReceiptSignatureValid(r: VoteReceipt, host: string): boolean {
  try {
    return crypto.verify(
      voteReceiptSignable(r),
      Buffer.from(r.signature, 'hex'),
      Buffer.from(host, 'hex'),
    )
  } catch {
    return false // sodium throws on malformed keys: that is a bad signature too
  }
}

/**
 * Why a receipted vote proves nothing about this project's host (null: it does): the receipt is
 * not the host's signature, or it is not for this vote (another project, proposal, voter or hash),
 * or the vote itself is not the voter's signature.
 */
export function receiptedVoteProblem(
  rv: ReceiptedVote,
  project: string,
  host: string,
): string | null {
  const { receipt: r, vote } = rv
  if (r.project !== project) return 'the receipt is for another project'
  if (!voteReceiptSignatureValid(r, host)) return "the receipt is not signed by the project's host"
  if (r.proposal !== vote.proposal || r.voter !== vote.voter)
    return 'the receipt names another proposal or voter than the vote'
  if (r.voteHash !== voteRef(vote).toString('hex')) return 'the receipt is for another vote'
  if (!voteSignatureValid(project, vote)) return "the vote is not the voter's signature"
  return null
}

export function voteReceiptToWire(r: VoteReceipt): VoteReceiptMessage {
  const b = (h: string) => Buffer.from(h, 'hex')
  return {
    project: b(r.project),
    proposal: r.proposal,
    voter: b(r.voter),
    voteHash: b(r.voteHash),
    round: r.round,
    at: r.at,
    signature: b(r.signature),
  }
}

export function voteReceiptFromWire(m: VoteReceiptMessage): VoteReceipt {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
  return {
    v: 1,
    project: hex(m.project),
    proposal: m.proposal,
    voter: hex(m.voter),
    voteHash: hex(m.voteHash),
    round: m.round,
    at: m.at,
    signature: hex(m.signature),
  }
}
