/**
 * The host's side of voting (docs/governance.md): a `vote` message from any peer (votes are signed,
 * so they may be relayed) is checked against the ledger (governance.ts: the proposal and its text,
 * the signature, the vote still open, an eligible voter who has not voted) and, if it passes,
 * recorded in the ledger. The sender then gets a signed vote receipt (`voteReceipt`, if its hello
 * knows the type; core/ledger/vote-receipt.ts) and an ack naming the vote (`ref` = voteRef, `round`
 * = the proposal's id) with `accepted` or `rejected` and a code. The same vote sent again (the voter
 * got no receipt) is answered with its receipt again, not refused as a duplicate. Nothing here
 * bans: a vote that does not count is refused, not an attack on the wire.
 */
import { isTandemError, TandemError, type ErrorCode } from '../api/errors.js'
import { voteFromWire, voteRef, type Vote } from '../ledger/amendments.js'
import { voteRejection } from '../ledger/governance.js'
import type { LedgerState } from '../ledger/reader.js'
import { signVoteReceipt, voteReceiptToWire, type VoteReceipt } from '../ledger/vote-receipt.js'
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

/** Receipts kept for re-sending; older ones are signed again from the ledger if asked. */
const MAX_KEPT_RECEIPTS = 4096

/** Throws the coded reason a vote may not be recorded on `state` now. */
export function checkVote(state: Parameters<typeof voteRejection>[0], vote: Vote): void {
  const why = voteRejection(state, vote)
  if (why) throw new TandemError(REJECTION_CODE[why.reason]!, why.message)
}

/** The ledger round this exact vote (same signature) was recorded in, or null. */
function recordedRound(state: LedgerState, vote: Vote): number | null {
  const rec = state.governance?.votes.find(
    (v) => v.value.signature === vote.signature && v.value.proposal === vote.proposal,
  )
  return rec ? rec.round : null
}

export class VoteIntake {
  /** Receipts issued, by vote hash (hex). */
  private readonly issued = new Map<string, VoteReceipt>()

  constructor(private readonly ctx: HostContext) {}

  onMessage(peer: Peer, m: VoteMessage): Promise<void> | undefined {
    if (!this.ctx.project.equals(m.project) || this.ctx.stopping) return
    const vote = voteFromWire(m)
    const ref = voteRef(vote)
    return this.accept(vote).then(
      (receipt) => {
        if (peer.knows('voteReceipt')) {
          try {
            this.ctx.node.send(peer.key, 'voteReceipt', voteReceiptToWire(receipt))
          } catch {
            // Gone: it sends the vote again and gets the receipt then.
          }
        }
        sendAck(this.ctx, peer.key, vote.proposal, ref, 'accepted')
      },
      (err: unknown) => {
        if (!isTandemError(err)) {
          this.ctx.emit('warning', err)
          return
        }
        sendAck(this.ctx, peer.key, vote.proposal, ref, 'rejected', err.code)
      },
    )
  }

  /**
   * Records a vote (or finds it recorded already) and returns its receipt; throws the coded reason
   * if refused.
   */
  async accept(vote: Vote): Promise<VoteReceipt> {
    const hash = voteRef(vote).toString('hex')
    const kept = this.issued.get(hash)
    if (kept) return kept
    const again = recordedRound(this.ctx.ledger.state, vote)
    let round: number
    if (again !== null) round = again
    else {
      round = this.ctx.ledger.round
      await this.record(vote)
    }
    const receipt = signVoteReceipt(
      {
        project: this.ctx.project.toString('hex'),
        proposal: vote.proposal,
        voter: vote.voter,
        voteHash: hash,
        round,
        at: this.ctx.now(),
      },
      this.ctx.keyPair.secretKey,
    )
    if (this.issued.size >= MAX_KEPT_RECEIPTS) this.issued.clear()
    this.issued.set(hash, receipt)
    return receipt
  }

  /** Records a vote (from the wire, or the host's own node); throws the coded reason if refused. */
  async record(vote: Vote): Promise<number> {
    checkVote(this.ctx.ledger.state, vote)
    // Checked again on the state it is appended to: a receipt may have closed the vote meanwhile.
    return this.ctx.ledger.recordVote(vote, (state) => checkVote(state, vote))
  }
}
