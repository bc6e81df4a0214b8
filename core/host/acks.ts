/**
 * The host's acknowledgements of offers (wire `ack`): `received` once journaled, `rejected` with a
 * code, and the final `accepted` / `rejected` + reason after the receipt is written. A contributor
 * that misses one learns the same from the replicated receipt. docs/host.md ("Final acks").
 */
import type { Contribution, RejectionReason } from '../ledger/entries.js'
import type { HostContext } from './host-context.js'

/** The ack code of each receipt rejection reason. */
export const ACK_REASON: Record<RejectionReason, string> = {
  'non-finite': 'NON_FINITE',
  'wrong-shape': 'WRONG_SHAPE',
  'norm-outlier': 'NORM_OUTLIER',
  harmful: 'HARMFUL',
  late: 'LATE',
  duplicate: 'DUPLICATE',
  'near-duplicate': 'NEAR_DUPLICATE',
  replayed: 'REPLAYED',
  'bad-signature': 'BAD_SIGNATURE',
  'stale-base': 'STALE_BASE',
}

export function sendAck(
  ctx: HostContext,
  peer: Uint8Array,
  round: number,
  hash: Uint8Array | string,
  status: 'received' | 'accepted' | 'rejected',
  reason = '',
): void {
  const ref = typeof hash === 'string' ? Buffer.from(hash, 'hex') : hash
  try {
    ctx.node.send(peer, 'ack', { project: ctx.project, round, ref, status, reason })
  } catch {
    // Gone: it learns the verdict from the receipt.
  }
}

/** The receipt's verdict on one contribution, to its contributor. */
export function sendFinalAck(ctx: HostContext, round: number, c: Contribution): void {
  const peer = Buffer.from(c.contributor, 'hex')
  if (c.accepted) sendAck(ctx, peer, round, c.updateHash, 'accepted')
  else sendAck(ctx, peer, round, c.updateHash, 'rejected', ACK_REASON[c.reason!])
}
