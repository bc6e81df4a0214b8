/**
 * The contributor's side of ONE project: follow the host's ledger (follow.ts), train each open
 * round on this node's assigned shards (train-round.ts), offer the update to the host (outbox.ts,
 * host-link.ts), then pick up the verdict from the round's receipt (receipts.ts). This file is the
 * lifecycle and the public face: it wires the parts together, start() opens what they run on (one
 * Running object, running.ts) and stop() closes it in the order that lets a round wind down.
 *
 * The ledger is the source of truth, the host's messages are only hints. Faults handled and why:
 * docs/node.md, "Participant".
 */
import { EventEmitter } from 'node:events'
import { TandemError } from '../../api/errors.js'
import { TrainingEngine } from '../../engine/engine.js'
import { parameterCount } from '../../host/round.js'
import { checkVote } from '../../host/vote-intake.js'
import { signVote, voteRef, voteToWire, type VoteChoice } from '../../ledger/amendments.js'
import { effectiveManifest, termsAt, termsConsent } from '../../ledger/governance.js'
import {
  receiptedVoteProblem,
  voteReceiptFromWire,
  type ReceiptedVote,
} from '../../ledger/vote-receipt.js'
import type { Manifest } from '../../ledger/manifest.js'
import type { LedgerState } from '../../ledger/reader.js'
import type { SwarmNode } from '../../net/swarm-node.js'
import type { RoundOpen } from '../../wire/messages.js'
import { ParticipantFiles } from './files.js'
import { FollowLoop } from './follow.js'
import { HostLink } from './host-link.js'
import { Outbox, publishedOffer } from './outbox.js'
import { ReceiptInbox } from './receipts.js'
import { RoundDeadlines } from './round-deadlines.js'
import { closeReads, closeUpdates, loadFeedback, openRunning, type Running } from './running.js'
import type {
  OfferRecord,
  ParticipantEvents,
  ParticipantOptions,
  ParticipantState,
  ParticipantStatus,
  ReceiptRecord,
} from './types.js'

export type {
  OfferRecord,
  OfferStatus,
  ParticipantEvents,
  ParticipantOptions,
  ParticipantState,
  ParticipantStatus,
  Progress,
  ReceiptRecord,
} from './types.js'

/** Times a vote is sent before the participant gives up on an answer or a receipt. */
const VOTE_TRIES = 3

function projectKeyOf(p: Uint8Array | string): Buffer {
  const buf = typeof p === 'string' ? Buffer.from(p, 'hex') : Buffer.from(p)
  if (buf.byteLength !== 32) throw new TandemError('BAD_ARGUMENT', 'project must be a 32-byte key')
  return buf
}

export class Participant extends EventEmitter<ParticipantEvents> {
  readonly project: Buffer
  readonly projectHex: string
  private readonly node: SwarmNode
  private readonly now: () => number
  private readonly files: ParticipantFiles | null
  private readonly deadlines = new RoundDeadlines()
  private readonly host: HostLink
  private readonly outbox: Outbox
  private readonly inbox: ReceiptInbox
  private readonly follow: FollowLoop
  /** What start() opened (null until then); closed, but kept for residual(), after stop(). */
  private running: Running | null = null
  /** Aborted by stop(): ends an openRunning() still waiting for peers. */
  private readonly stopping = new AbortController()
  /** Re-sends offers the host has not answered (from start() until stop()). */
  private retry: NodeJS.Timeout | null = null
  /** The dataset whose topic this participant joined, once the manifest named it. */
  private datasetKey: Buffer | null = null
  private current: ParticipantState = 'starting'
  private detail = ''
  private stopped = false
  /** Accepted terms when the node keeps none (opts.terms absent). */
  private termsInMemory: string | undefined

  constructor(private readonly opts: ParticipantOptions) {
    super()
    this.node = opts.node
    if (!this.node.key.equals(opts.keyPair.publicKey))
      throw new TandemError('BAD_ARGUMENT', "the key pair is not the node's identity")
    this.project = projectKeyOf(opts.project)
    this.projectHex = this.project.toString('hex')
    this.now = opts.now ?? Date.now
    this.files = opts.stateDir ? new ParticipantFiles(opts.stateDir, this.projectHex) : null
    const engine = opts.engine ?? new TrainingEngine(opts.engineOptions)
    const warn = (err: unknown) => this.emit('warning', err)
    const setState = (s: ParticipantState, d: string) => this.setState(s, d)
    const stopped = () => this.stopped
    this.host = new HostLink({
      node: this.node,
      project: this.project,
      onRoundOpen: (m) => this.onRoundOpen(m),
      onAck: (m) => this.outbox.onAck(m),
      onConnect: () => this.outbox.resend(),
    })
    this.outbox = new Outbox({
      link: this.host,
      now: this.now,
      retryMs: opts.offerRetryMs ?? 5_000,
      closed: (round) => Boolean(this.follow.ledger?.rounds[round]?.receipt),
      setState,
      onOffer: (o) => this.emit('offer', o),
      onWarning: warn,
    })
    this.inbox = new ReceiptInbox({
      me: opts.keyPair.publicKey.toString('hex'),
      files: this.files,
      outbox: this.outbox,
      onReceipt: (r) => this.emit('receipt', r),
      onWarning: warn,
    })
    const ledgerTimeoutMs = opts.ledgerTimeoutMs ?? 60_000
    this.follow = new FollowLoop({
      engine,
      ledgerTimeoutMs,
      now: this.now,
      gate: opts.gate,
      consent: (state, round) => this.consent(state, round),
      deadlines: this.deadlines,
      outbox: this.outbox,
      inbox: this.inbox,
      round: {
        engine,
        project: this.project,
        projectHex: this.projectHex,
        keyPair: opts.keyPair,
        files: this.files,
        ledgerTimeoutMs,
        dataTimeoutMs: opts.dataTimeoutMs ?? 60_000,
        diskCapBytes: opts.diskCapBytes,
        now: this.now,
        deadlines: this.deadlines,
        stopped,
        setState,
        onProgress: (p) => this.emit('progress', p),
        onWarning: warn,
      },
      stopped,
      setState,
      onTrained: (t) => this.emit('trained', t),
      onWarning: warn,
    })
  }

  get state(): ParticipantState {
    return this.current
  }

  get manifest(): Manifest | null {
    return this.follow.ledger?.manifest ?? null
  }

  /** The ledger as last read (null until it arrived). */
  get ledgerState(): LedgerState | null {
    return this.follow.ledger
  }

  receipts(): ReceiptRecord[] {
    return this.inbox.all()
  }

  offerFor(round: number): OfferRecord | undefined {
    return this.outbox.get(round)
  }

  status(): ParticipantStatus {
    const training = this.follow.training
    return {
      project: this.projectHex,
      state: this.current,
      detail: this.detail,
      round: this.follow.ledger?.rounds.at(-1)?.round ?? null,
      training: training
        ? { round: training.round, step: training.step, steps: training.steps }
        : null,
      offers: this.outbox.list(),
      receipts: this.receipts(),
      hostConnected: this.host.connected(),
    }
  }

  /**
   * Joins the project topic and follows the ledger. Resolves once the ledger and the dataset
   * header are here (waiting for peers as long as it takes, or until stop()).
   */
  async start(): Promise<void> {
    await this.inbox.load()
    this.node.joinProject(this.project)
    this.host.open()
    const warn = (err: unknown) => this.emit('warning', err)
    const running = await openRunning({
      store: this.opts.store,
      keyPair: this.opts.keyPair,
      project: this.project,
      ledgerTimeoutMs: this.opts.ledgerTimeoutMs ?? 60_000,
      dataTimeoutMs: this.opts.dataTimeoutMs ?? 60_000,
      signal: this.stopping.signal,
      setState: (s, d) => this.setState(s, d),
      setDetail: (d) => (this.detail = d),
      onLedger: (state) => {
        this.follow.ledger = state
        this.host.setHost(Buffer.from(state.manifest.host, 'hex'))
        // Reachable by the dataset key alone (docs/dataset-format.md); left in stop().
        this.datasetKey ??= Buffer.from(state.manifest.dataset.key, 'hex')
        void this.node.joinDataset(this.datasetKey)
      },
      onAppend: () => this.follow.kick(),
      onWarning: warn,
    })
    // The first read: the loop reads again only once it begins, below.
    const ledger = this.follow.ledger
    if (!running || !ledger) return
    if (this.stopped) {
      // stop() came after openRunning's last check: it had nothing to close yet.
      await closeReads(running, warn)
      await closeUpdates(running, warn)
      return
    }
    this.running = running
    // After our own restart: re-offer what we already published for the open round.
    const recovered = await publishedOffer(running.updateCore, ledger, this.project)
    if (recovered) this.outbox.add(recovered.round, recovered.hash, recovered.offer)
    const n = parameterCount(effectiveManifest(ledger, ledger.rounds.length - 1))
    running.feedback = await loadFeedback(this.files, running.updateCore, n, warn)
    this.retry = setInterval(() => this.outbox.resend(true), this.outbox.retryMs)
    this.retry.unref()
    if (!this.outbox.pending()) this.setState('idle', 'waiting for a round')
    this.follow.begin(running)
  }

  /**
   * Signs a vote on a proposal of this project's ledger and sends it to the host; resolves with the
   * host's answer and, when accepted, the host's signed receipt with the vote (the node keeps it:
   * docs/governance.md, "Vote receipts"). Checked here first against the ledger as read
   * (PROPOSAL_NOT_FOUND, PROPOSAL_CLOSED, VOTE_INELIGIBLE, VOTE_DUPLICATE); the host checks again
   * and records it. No answer, or an accepted ack without a valid receipt from a host that sends
   * them, sends the same vote again (up to VOTE_TRIES times, `timeoutMs` each): the host answers a
   * vote it recorded already with its receipt.
   */
  async vote(
    proposal: number,
    choice: VoteChoice,
    timeoutMs?: number,
  ): Promise<{ status: 'accepted' | 'rejected'; reason: string; receipted: ReceiptedVote | null }> {
    const state = this.follow.ledger
    if (!state) throw new TandemError('WRONG_STATE', 'the ledger has not arrived yet')
    const p = state.governance?.proposals.find((x) => x.index === proposal)
    if (!p) throw new TandemError('PROPOSAL_NOT_FOUND', `no proposal ${proposal} in the ledger`)
    const vote = signVote(
      this.projectHex,
      { proposal, proposalHash: p.hash, choice },
      this.opts.keyPair,
    )
    checkVote(state, vote)
    const wire = voteToWire(vote, this.projectHex)
    const ref = voteRef(vote)
    let accepted = false
    for (let i = 0; i < VOTE_TRIES; i++) {
      const answer = await this.host.sendVote(wire, ref, timeoutMs)
      if (!answer) continue
      if (answer.ack.status !== 'accepted') {
        // A retry of a vote the host took but whose receipt we lost is answered with the receipt,
        // so a refusal after an acceptance means the host changed its mind: report the acceptance.
        if (accepted) break
        return { status: 'rejected', reason: answer.ack.reason, receipted: null }
      }
      accepted = true
      const receipt = answer.receipt ? voteReceiptFromWire(answer.receipt) : null
      const receipted = receipt ? { receipt, vote } : null
      const why = receipted && receiptedVoteProblem(receipted, this.projectHex, state.manifest.host)
      if (receipted && !why) return { status: 'accepted', reason: '', receipted }
      if (why) this.emit('warning', new TandemError('VOTE_RECEIPT_INVALID', why))
      if (!this.host.sendsReceipts()) break
    }
    if (!accepted) throw new TandemError('PEER_UNKNOWN', 'the host did not answer the vote')
    return { status: 'accepted', reason: '', receipted: null }
  }

  /** The terms in effect and whether this contributor is paused over them. */
  termsStatus(): { accepted: string | undefined; current: string; paused: boolean } | null {
    const state = this.follow.ledger
    if (!state) return null
    const round = state.rounds.at(-1)!.round
    const current = termsAt(state, round)
    return { accepted: this.acceptedTerms(), current, paused: this.consent(state, round) !== null }
  }

  /** Accepts the terms now in effect: a contributor paused over a change of terms trains again. */
  acceptTerms(): string {
    const state = this.follow.ledger
    if (!state) throw new TandemError('WRONG_STATE', 'the ledger has not arrived yet')
    const hash = termsAt(state, state.rounds.at(-1)!.round)
    this.setAcceptedTerms(hash)
    this.follow.kick()
    return hash
  }

  private acceptedTerms(): string | undefined {
    return this.opts.terms ? this.opts.terms.get() : this.termsInMemory
  }

  private setAcceptedTerms(hash: string): void {
    if (this.opts.terms) this.opts.terms.set(hash)
    else this.termsInMemory = hash
  }

  /** The follow loop's consent check (governance.ts termsConsent); joining accepts what it finds. */
  private consent(state: LedgerState, round: number): string | null {
    let accepted = this.acceptedTerms()
    if (accepted === undefined) {
      accepted = termsAt(state, round)
      this.setAcceptedTerms(accepted)
    }
    const c = termsConsent(state, round, this.opts.keyPair.publicKey.toString('hex'), accepted)
    if (c.ok) {
      if (c.terms !== accepted) this.setAcceptedTerms(c.terms) // it voted for exactly these
      return null
    }
    return `paused: the project's terms changed (proposal ${c.proposal}); accept them to contribute`
  }

  /** Looks at the ledger again now (e.g. the node's gate may answer differently). */
  poke(): void {
    this.follow.kick()
  }

  /** Stops training at the next step and leaves the project. Receipts stay readable. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const warn = (err: unknown) => this.emit('warning', err)
    this.follow.stopTraining()
    this.stopping.abort()
    this.host.close()
    if (this.retry) clearInterval(this.retry)
    const running = this.running
    // Closing the cores ends reads still waiting for peers; then the training job winds down.
    if (running) await closeReads(running, warn)
    await this.follow.settled()
    if (running) await closeUpdates(running, warn)
    await this.node.leaveProject(this.project).catch(warn)
    if (this.datasetKey) await this.node.leaveDataset(this.datasetKey)
    this.setState('stopped', '')
  }

  /** The error-feedback residual in use (null before the first update); a copy. */
  residual(): Float32Array | null {
    const feedback = this.running?.feedback
    return feedback ? Float32Array.from(feedback.residual) : null
  }

  /** Deletes what only matters while a member (the residual); receipts stay. After stop(). */
  async discardLocalState(): Promise<void> {
    await this.files?.discardResidual()
  }

  private setState(state: ParticipantState, detail: string): void {
    if (this.stopped && state !== 'stopped') return
    if (state === this.current && detail === this.detail) return
    this.current = state
    this.detail = detail
    this.emit('state', state, detail)
  }

  /** The host announced a round: a later deadline, a host that may have restarted, a new round. */
  private onRoundOpen(m: RoundOpen): void {
    this.deadlines.hint(m.round, m.deadline, this.now())
    this.outbox.onRoundOpen(m.round)
    // Only a nudge to fetch the new length: a failure (no peer has it yet, or stop() closed the
    // core) is safe to drop, because the next append or evaluate reads the ledger and says so.
    void this.running?.ledgerCore.update({ wait: true }).catch(() => {})
    this.follow.kick()
  }
}
