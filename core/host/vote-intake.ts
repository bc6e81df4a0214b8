/**
 * The host's side of voting (docs/governance.md): a `vote` message from any peer (votes are signed,
 * so they may be relayed) is checked against the ledger (governance.ts: the proposal and its text,
 * the signature, the vote still open, an eligible voter who has not voted) and, if it passes,
 * recorded in the ledger; the sender gets an ack naming the vote (`ref` = voteRef, `round` = the
 * proposal's id) with `accepted` or `rejected` and a code. Nothing here bans: a vote that does not
 * count is refused, not an attack on the wire.
 */
import { isTandemError, TandemError, type ErrorCode } from '../api/errors.js'
import { voteFromWire, voteRef, type Vote } from '../ledger/amendments.js'
import { voteRejection } from '../ledger/governance.js'
import type { Peer } from '../net/peer.js'
import type { VoteMessage } from '../wire/messages.js'
import { sendAck } from './acks.js'
import type { HostContext } from './host-context.js'

const REJECTION_CODE: Record<string, ErrorCode> = {
  'no-proposal': 'PROPOSAL_NOT_FOUND',
  'wrong-proposal': 'VOTE_INVALID',
  'bad-signature': 'VOTE_INVALID',
  late: 'PROPOSAL_CLOSED',
  ineligible: 'VOTE_INELIGIBLE',
  duplicate: 'VOTE_DUPLICATE',
}

/** Throws the coded reason a vote may not be recorded on `state` now. */
export function checkVote(state: Parameters<typeof voteRejection>[0], vote: Vote): void {
  const why = voteRejection(state, vote)
  if (why) throw new TandemError(REJECTION_CODE[why.reason]!, why.message)
}

export class VoteIntake {
  constructor(private readonly ctx: HostContext) {}

  onMessage(peer: Peer, m: VoteMessage): Promise<void> | undefined {
    if (!this.ctx.project.equals(m.project) || this.ctx.stopping) return
    const vote = voteFromWire(m)
    return this.record(vote).then(
      () => sendAck(this.ctx, peer.key, vote.proposal, voteRef(vote), 'accepted'),
      (err: unknown) => {
        if (!isTandemError(err)) {
          this.ctx.emit('warning', err)
          return
        }
        sendAck(this.ctx, peer.key, vote.proposal, voteRef(vote), 'rejected', err.code)
      },
    )
  }

  /** Records a vote (from the wire, or the host's own node); throws the coded reason if refused. */
  async record(vote: Vote): Promise<number> {
    checkVote(this.ctx.ledger.state, vote)
    // Checked again on the state it is appended to: a receipt may have closed the vote meanwhile.
    return this.ctx.ledger.recordVote(vote, (state) => checkVote(state, vote))
  }
}
