/**
 * The project host on the swarm: opens rounds in the ledger, tells the project's peers, takes
 * update offers, downloads the updates from the contributors' own cores, closes each round with
 * computeRound (round.ts) and writes receipt + next checkpoint + momentum in one ledger batch.
 *
 * Round r, as a state machine (docs/host.md has the long version):
 *
 *   open     round-open r in the ledger (deadline = now + roundDeadlineSec); roundOpen broadcast to
 *            the project's peers and sent to each peer that joins the project later. Offers are
 *            checked, journaled (journal.ts), acknowledged `received` and their updates fetched.
 *   deadline fewer than minUpdates on time → the deadline is extended ONCE by roundDeadlineSec
 *            (roundOpen re-broadcast with the new deadline; the ledger keeps the original); with
 *            none at all it keeps extending, since closing an empty round would only move the
 *            model by momentum and spend a ledger entry on nothing.
 *   closing  at the (extended) deadline, or as soon as maxUpdates updates are in: in-flight fetches
 *            finish, computeRound scores and aggregates, ledger.closeRound appends the batch, every
 *            contributor still connected gets its final ack (accepted / rejected + reason).
 *
 * Authenticity of an update: the offer arrives over the Noise channel authenticated as the peer,
 * and must name the update core derived for that peer (update-core.ts); hypercore then verifies
 * every downloaded block against that key. An offer naming any other core is recorded as
 * 'bad-signature' and not downloaded. Offers whose verdict is certain without the bytes (late,
 * replayed hash, duplicate hash, a second update from the same contributor) are recorded but not
 * downloaded either. A fetch that fails (unavailable, mismatching the offer, too large) is
 * acknowledged `rejected` with the UPDATE_* code and left out of the receipt: no verified update
 * exists to name in it.
 *
 * Stragglers (an offer after the deadline) are rejected as 'late', never folded into a later round:
 * see docs/host.md for why.
 *
 * Crash safety: the ledger's closeRound batch is atomic and refuses a second receipt, and the offer
 * journal keeps arrival times across a restart. start() on a ledger whose last round is open and
 * has no receipt resumes it with the SAME ledger deadline (plus a journaled extension), fetches the
 * journaled updates again, and re-broadcasts roundOpen so contributors re-send unacknowledged
 * offers. A re-sent offer already journaled is a retransmission, not a second contribution.
 *
 * The node's swarm identity must be the project's host key: contributors accept roundOpen and acks
 * only from the peer whose Noise key is the manifest's host key. One hosted project per node.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { isTandemError, TandemError } from '../api/errors.js'
import type { Dataset } from '../data/dataset.js'
import type { Batch } from '../engine/batch.js'
import { encodedSize } from '../engine/compress/codec.js'
import { compressOnce } from '../engine/compress/error-feedback.js'
import type { Contribution, RejectionReason } from '../ledger/entries.js'
import type { HostKeyPair, LedgerWriter } from '../ledger/ledger.js'
import { roundSamples, type Manifest } from '../ledger/manifest.js'
import { fetchUpdate, UPDATE_CHUNK_BYTES } from '../ledger/updates.js'
import type { TandemNode } from '../net/node.js'
import type { Peer } from '../net/peer.js'
import { signAnnounce } from '../wire/signing.js'
import type { Announce, RoundOpen, UpdateOffer, WireMessage } from '../wire/messages.js'
import { OfferJournal, type JournalOffer } from './journal.js'
import { computeRound, parameterCount, roundHistory, type RoundCandidate } from './round.js'
import { updateCoreKey } from './update-core.js'
import {
  CLOSE_FETCH_WAVES,
  closeFetchWave,
  collectingVerdict,
  missingBytes,
  settlePass,
  type Kept,
  type OfferState,
  type RoundFacts,
} from './settle.js'
import { roundValidationBatch } from './validation.js'

export type HostState = 'starting' | 'open' | 'closing' | 'stopped'

export interface OfferEvent {
  round: number
  contributor: string
  hash: string
  /** received: journaled and being fetched; recorded: kept for the receipt without fetching. */
  status: 'received' | 'recorded' | 'retransmitted' | 'rejected'
  reason?: string
}

export interface RoundOpenEvent {
  round: number
  deadline: number
  resumed: boolean
  extended: boolean
}

export interface RoundClosedEvent {
  round: number
  lossBefore: number
  lossAfter: number
  accepted: number
  rejected: number
  /** Contributor (hex) → credits granted this round. */
  credits: Record<string, number>
  contributions: Contribution[]
  /** From opening (or resuming) to the receipt being written. */
  ms: number
}

export interface HostEvents {
  'round-open': [RoundOpenEvent]
  offer: [OfferEvent]
  'round-closed': [RoundClosedEvent]
  announce: [Announce]
  /** A local failure the host survives (it retries); the peer is not blamed. */
  warning: [unknown]
  /** The round limit (`rounds` option) was reached. */
  done: []
}

export interface ProjectHostOptions {
  node: TandemNode
  /** The node's corestore: the one holding the ledger and the dataset, replicated by `node`. */
  store: Corestore
  /** The ledger's key pair; must be the node's identity (see the file comment). */
  keyPair: HostKeyPair
  ledger: LedgerWriter
  dataset: Dataset
  /** Directory of the offer journal; without it a crash forgets the open round's offers. */
  journalDir?: string
  /** Re-announce this often (default 30 s); announces also go out on every change. */
  announceEveryMs?: number
  /** ms a single update download may take after the round's deadline (default 60 s). */
  fetchTimeoutMs?: number
  /** Offers one contributor may make per round, retransmissions aside (default 4). */
  maxOffersPerPeer?: number
  /** Offers one round records at most (default maxRoundEntries(manifest)). */
  maxRoundEntries?: number
  /** Also announce on the global discovery topic (default false). */
  discovery?: boolean
  /** Stop after closing this many rounds (default: run until stop()). */
  rounds?: number
  now?: () => number
}

/** An offer of the open round (settle.ts): its verdict without bytes, its bytes, its download. */
interface Entry extends OfferState {
  fetching: Promise<void> | null
}

interface OpenRound {
  round: number
  /** The ledger's round-open time: no offer is received before it. */
  openedAt: number
  checkpointIndex: number
  checkpointHash: string
  ledgerDeadline: number
  deadline: number
  extensions: number
  startedAt: number
  resumed: boolean
  entries: Entry[]
  /** contributor:core:start:hash → entry (retransmissions). */
  byKey: Map<string, Entry>
  /** No new candidates once set (closing, or maxUpdates reached). */
  closeStarted: boolean
  /** The candidates were taken for computeRound; later offers are turned away. */
  snapshotted: boolean
  timer: NodeJS.Timeout | null
  wake: () => void
  cores: Hypercore[]
  /** Update hashes and reputations from the receipts before this round. */
  history: { seenBefore: Set<string>; reputation: Map<string, number> }
}

const ACK_REASON: Record<RejectionReason, string> = {
  'non-finite': 'NON_FINITE',
  'wrong-shape': 'WRONG_SHAPE',
  'norm-outlier': 'NORM_OUTLIER',
  harmful: 'HARMFUL',
  late: 'LATE',
  duplicate: 'DUPLICATE',
  replayed: 'REPLAYED',
  'bad-signature': 'BAD_SIGNATURE',
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The most bytes a valid update of this project can take (any codec, never more than f32). */
export function maxUpdateBytes(manifest: Manifest): number {
  const n = parameterCount(manifest)
  const sized = encodedSize(compressOnce(new Float32Array(n), manifest.recipe.compression))
  return Math.max(sized, 12 + 4 * n)
}

/** Offers one round records at most: room for retries and rejects, far below the receipt cap. */
export function maxRoundEntries(manifest: Manifest): number {
  return Math.min(9_000, 4 * manifest.recipe.maxUpdates + 256)
}

/** Deterministic: anyone can recompute it from the checkpoint it opens on. */
export function assignmentSeed(project: string, round: number, checkpointHash: string): string {
  return createHash('sha256')
    .update(`tandem/assignment-seed/v1\0${project}\0${round}\0${checkpointHash}`)
    .digest('hex')
}

export class ProjectHost extends EventEmitter<HostEvents> {
  readonly project: Buffer
  private readonly node: TandemNode
  private readonly ledger: LedgerWriter
  private readonly manifest: Manifest
  private readonly journal: OfferJournal | null
  private readonly now: () => number
  private readonly maxBytes: number
  private readonly fetchTimeoutMs: number
  private readonly maxOffersPerPeer: number
  private validation: Batch | null = null
  private current: HostState = 'starting'
  private open: OpenRound | null = null
  private seq = 0
  private closedRounds = 0
  private stopping = false
  private loop: Promise<void> | null = null
  private failure: unknown = null
  private announceTimer: NodeJS.Timeout | null = null
  private readonly teardown: Array<() => void> = []

  constructor(private readonly opts: ProjectHostOptions) {
    super()
    this.node = opts.node
    this.ledger = opts.ledger
    this.manifest = opts.ledger.manifest
    if (!opts.keyPair.publicKey.equals(Buffer.from(this.manifest.host, 'hex')))
      throw new TandemError('BAD_ARGUMENT', "the key pair is not this project's host key")
    if (!this.node.key.equals(opts.keyPair.publicKey))
      throw new TandemError(
        'BAD_ARGUMENT',
        "the node's identity must be the project's host key (contributors check roundOpen's sender)",
      )
    if (opts.dataset.keyHex !== this.manifest.dataset.key)
      throw new TandemError('BAD_ARGUMENT', "the dataset is not the project's")
    this.project = Buffer.from(opts.ledger.key, 'hex')
    this.journal = opts.journalDir ? new OfferJournal(opts.journalDir) : null
    this.now = opts.now ?? Date.now
    this.maxBytes = maxUpdateBytes(this.manifest)
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 60_000
    this.maxOffersPerPeer = opts.maxOffersPerPeer ?? 4
  }

  get state(): HostState {
    return this.current
  }

  get round(): number {
    return this.ledger.round
  }

  status() {
    const o = this.open
    return {
      project: this.project.toString('hex'),
      state: this.current,
      round: this.ledger.round,
      deadline: o?.deadline ?? null,
      offers: o?.entries.length ?? 0,
      fetched: o?.entries.filter((e) => e.encoded).length ?? 0,
      closedRounds: this.closedRounds,
    }
  }

  /** Joins the project, announces, and runs rounds in the background until stop(). */
  async start(): Promise<void> {
    if (this.loop) throw new TandemError('BAD_ARGUMENT', 'the host is already running')
    this.validation = await roundValidationBatch(this.opts.dataset, this.manifest, {
      timeoutMs: 60_000,
    })
    const onMessage = (peer: Peer, msg: WireMessage) => this.onMessage(peer, msg)
    const onPeer = (peer: Peer) => this.onPeer(peer)
    this.node.on('message', onMessage)
    this.node.on('peer', onPeer)
    this.node.on('peer-update', onPeer)
    this.teardown.push(() => {
      this.node.off('message', onMessage)
      this.node.off('peer', onPeer)
      this.node.off('peer-update', onPeer)
    })
    this.node.joinProject(this.project)
    void this.node.joinDataset(this.opts.dataset.key) // reachable by the dataset key alone
    if (this.opts.discovery) this.node.joinDiscovery()
    this.announceTimer = setInterval(() => this.announce(), this.opts.announceEveryMs ?? 30_000)
    this.announceTimer.unref()
    this.loop = this.run().catch((err: unknown) => {
      this.failure = err
      this.emit('warning', err)
    })
  }

  /** Resolves when the round loop ends (stop(), or the `rounds` limit). */
  async finished(): Promise<void> {
    await this.loop
    if (this.failure) throw this.failure
  }

  /**
   * Stops taking offers. A round being closed finishes closing first (its ledger batch is one
   * append); an open round stays open in the ledger and resumes at the next start().
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.loop ?? undefined
    this.stopping = true
    if (this.announceTimer) clearInterval(this.announceTimer)
    this.open?.wake()
    for (const off of this.teardown) off()
    await this.loop
    await this.node.leaveProject(this.project).catch(() => {})
    if (this.loop) await this.node.leaveDataset(this.opts.dataset.key)
    this.current = 'stopped'
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        await this.runRound()
        if (this.opts.rounds !== undefined && this.closedRounds >= this.opts.rounds) {
          this.emit('done')
          break
        }
      }
    } finally {
      this.current = 'stopped'
      if (this.announceTimer) clearInterval(this.announceTimer)
    }
  }

  /** Opens (or resumes) the ledger's current round and runs it until its receipt is written. */
  private async runRound(): Promise<void> {
    const r = this.ledger.round
    let rec = this.ledger.state.rounds[r]!
    const resumed = Boolean(rec.open)
    if (!rec.open) {
      const openedAt = this.now()
      await this.ledger.openRound({
        openedAt,
        deadline: openedAt + this.manifest.recipe.roundDeadlineSec * 1000,
        assignmentSeed: assignmentSeed(this.ledger.key, r, rec.checkpoint.contentHash),
      })
      rec = this.ledger.state.rounds[r]!
    }
    await this.journal?.prune(r)
    const journal = (await this.journal?.read(r)) ?? { offers: [], deadline: null }
    const ledgerDeadline = rec.open!.deadline
    let wake: () => void = () => {}
    const o: OpenRound = {
      round: r,
      openedAt: rec.open!.openedAt,
      checkpointIndex: rec.checkpoint.index,
      checkpointHash: rec.checkpoint.contentHash,
      ledgerDeadline,
      deadline: Math.max(ledgerDeadline, journal.deadline ?? 0),
      extensions: journal.deadline && journal.deadline > ledgerDeadline ? 1 : 0,
      startedAt: this.now(),
      resumed,
      entries: [],
      byKey: new Map(),
      closeStarted: false,
      snapshotted: false,
      timer: null,
      wake: () => wake(),
      cores: [],
      history: roundHistory(this.ledger.state, r),
    }
    this.open = o
    for (const j of journal.offers) this.addEntry(o, j)
    this.current = 'open'
    this.emit('round-open', { round: r, deadline: o.deadline, resumed, extended: o.extensions > 0 })
    this.node.broadcast('roundOpen', this.roundOpenBody(o), this.project)
    this.announce()

    try {
      // Wait for the deadline (extending it per the policy) or for maxUpdates.
      for (;;) {
        if (this.stopping) return
        if (o.closeStarted) break
        const wait = o.deadline - this.now()
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            wake = resolve
            o.timer = setTimeout(resolve, wait)
          })
          if (o.timer) clearTimeout(o.timer)
          continue
        }
        const usable = o.entries.filter((e) => this.fetchable(e) && !e.fetchError).length
        const { minUpdates, roundDeadlineSec } = this.manifest.recipe
        if (usable === 0 || (usable < minUpdates && o.extensions === 0)) {
          o.deadline = this.now() + roundDeadlineSec * 1000
          o.extensions++
          // Offers that came in while the timer was firing are on time after all.
          for (const e of o.entries) {
            if (e.verdict !== 'late') continue
            e.verdict = this.knownVerdict(o, e, o.entries.indexOf(e))
            if (e.verdict === null) e.fetching = this.fetch(o, e)
          }
          await this.journal?.append({ t: 'extend', round: r, deadline: o.deadline })
          this.emit('round-open', { round: r, deadline: o.deadline, resumed, extended: true })
          this.node.broadcast('roundOpen', this.roundOpenBody(o), this.project)
          this.announce()
          continue
        }
        break
      }
      o.closeStarted = true
      this.current = 'closing'
      await this.close(o)
    } finally {
      if (o.timer) clearTimeout(o.timer)
      for (const core of o.cores) await core.close().catch(() => {})
      if (this.open === o) this.open = null
    }
  }

  /**
   * Waits for the fetches, settles the verdicts, computes the round and writes it. Retries a failed
   * write. Stopped meanwhile (downloads cut short), it writes nothing: the round resumes at the
   * next start from the ledger and the journal.
   */
  private async close(o: OpenRound): Promise<void> {
    await Promise.all(o.entries.map((e) => e.fetching))
    o.snapshotted = true
    const kept = await this.settleVerdicts(o)
    if (this.stopping) return
    const candidates: RoundCandidate[] = kept.map(({ entry: e }) => ({
      contributor: e.contributor,
      updateCore: e.core,
      updateIndex: e.start,
      updateHash: e.hash,
      samples: roundSamples(this.manifest),
      encoded: e.encoded,
      receivedAt: e.receivedAt,
      signatureValid: e.signatureValid,
    }))
    const history = o.history
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await computeRound({
          manifest: this.manifest,
          round: o.round,
          weights: await this.ledger.weights(o.round),
          momentum: await this.ledger.momentum(o.round),
          candidates,
          seenBefore: history.seenBefore,
          reputation: history.reputation,
          validation: this.validation!,
          deadline: o.deadline,
          // Never before an arrival it lists, even if the wall clock stepped back meanwhile.
          closedAt: Math.max(this.now(), ...candidates.map((c) => c.receivedAt)),
        })
        await this.ledger.closeRound(out.receipt, out.weights, out.momentum)
        this.closedRounds++
        const contributions = out.receipt.contributions
        const credits: Record<string, number> = {}
        for (const c of contributions)
          credits[c.contributor] = (credits[c.contributor] ?? 0) + c.credits
        this.emit('round-closed', {
          round: o.round,
          lossBefore: out.lossBefore,
          lossAfter: out.lossAfter,
          accepted: contributions.filter((c) => c.accepted).length,
          rejected: contributions.filter((c) => !c.accepted).length,
          credits,
          contributions,
          ms: this.now() - o.startedAt,
        })
        for (const c of contributions) this.sendFinalAck(o.round, c)
        await this.journal?.prune(o.round + 1).catch((err: unknown) => this.emit('warning', err))
        return
      } catch (err) {
        // The ledger refuses a second receipt: if one is there, this round is done.
        if (this.ledger.state.rounds[o.round]?.receipt) return
        this.emit('warning', err)
        if (this.stopping || attempt >= 5) throw err
        await new Promise((r) => setTimeout(r, 1000 * attempt))
      }
    }
  }

  private roundOpenBody(o: OpenRound): RoundOpen {
    return {
      project: this.project,
      round: o.round,
      checkpointIndex: o.checkpointIndex,
      checkpointHash: Buffer.from(o.checkpointHash, 'hex'),
      deadline: o.deadline,
      innerSteps: this.manifest.recipe.innerSteps,
    }
  }

  private announceBody(): Announce {
    this.seq = Math.max(this.seq + 1, this.now())
    const o = this.open
    return signAnnounce(
      {
        project: this.project,
        host: this.opts.keyPair.publicKey,
        name: this.manifest.name,
        dataset: Buffer.from(this.manifest.dataset.key, 'hex'),
        round: this.ledger.round,
        contributors: o ? new Set(o.entries.map((e) => e.contributor)).size : 0,
        open: Boolean(o && !o.closeStarted),
        seq: this.seq,
      },
      this.opts.keyPair.secretKey,
    )
  }

  private announce(peer?: Peer): void {
    if (this.stopping) return
    try {
      const body = this.announceBody()
      if (peer) peer.send('announce', body)
      else this.node.broadcast('announce', body)
      this.emit('announce', body)
    } catch (err) {
      this.emit('warning', err)
    }
  }

  /** A peer arrived or joined the project: tell it about the project and the open round. */
  private onPeer(peer: Peer): void {
    if (this.stopping || !peer.inProject(this.project)) return
    this.announce(peer)
    const o = this.open
    if (o && !o.closeStarted) {
      try {
        peer.send('roundOpen', this.roundOpenBody(o))
      } catch (err) {
        this.emit('warning', err)
      }
    }
  }

  private ack(
    peer: Uint8Array,
    round: number,
    hash: Uint8Array | string,
    status: 'received' | 'accepted' | 'rejected',
    reason = '',
  ): void {
    const ref = typeof hash === 'string' ? Buffer.from(hash, 'hex') : hash
    try {
      this.node.send(peer, 'ack', { project: this.project, round, ref, status, reason })
    } catch {
      // Gone: it learns the verdict from the receipt.
    }
  }

  private sendFinalAck(round: number, c: Contribution): void {
    const peer = Buffer.from(c.contributor, 'hex')
    if (c.accepted) this.ack(peer, round, c.updateHash, 'accepted')
    else this.ack(peer, round, c.updateHash, 'rejected', ACK_REASON[c.reason!])
  }

  private onMessage(peer: Peer, msg: WireMessage): void {
    if (this.stopping || msg.type !== 'updateOffer') return
    const m = msg.body
    if (!this.project.equals(m.project)) return // another project's business
    this.onOffer(peer, m)
  }

  private onOffer(peer: Peer, m: UpdateOffer): void {
    const contributor = peer.hexKey
    const hash = hexOf(m.hash)
    const o = this.open
    const reject = (reason: string) => {
      this.ack(peer.key, m.round, m.hash, 'rejected', reason)
      this.emit('offer', { round: m.round, contributor, hash, status: 'rejected', reason })
    }
    if (!o || m.round !== o.round) {
      const rec = this.ledger.state.rounds[m.round]
      const c = rec?.receipt?.contributions.find(
        (x) => x.contributor === contributor && x.updateHash === hash,
      )
      if (c) return this.sendFinalAck(m.round, c) // a contributor that missed its verdict
      return reject(m.round < this.ledger.round || rec?.receipt ? 'ROUND_CLOSED' : 'WRONG_ROUND')
    }
    const key = `${contributor}:${hexOf(m.core)}:${m.start}:${hash}`
    const known = o.byKey.get(key)
    if (known) {
      // An update that was not available may be now (the contributor was away): try once more.
      if (known.fetchError === 'UPDATE_UNAVAILABLE' && !o.closeStarted) {
        known.fetchError = null
        known.fetching = this.fetch(o, known)
      }
      if (known.fetchError) reject(known.fetchError)
      else this.ack(peer.key, m.round, m.hash, 'received')
      this.emit('offer', { round: m.round, contributor, hash, status: 'retransmitted' })
      return
    }
    if (o.snapshotted) return reject('ROUND_CLOSED')
    // Never before the round opened, even if the wall clock stepped back since.
    const receivedAt = Math.max(this.now(), o.openedAt)
    if (o.closeStarted && receivedAt <= o.deadline) return reject('ROUND_FULL')
    if (o.entries.filter((e) => e.contributor === contributor).length >= this.maxOffersPerPeer)
      return reject('TOO_MANY_OFFERS')
    // Every entry is listed in the receipt, which holds at most 10,000 contributions; identities
    // cost nothing, so cap what a round records (rejected-without-download offers included).
    if (o.entries.length >= (this.opts.maxRoundEntries ?? maxRoundEntries(this.manifest)))
      return reject('ROUND_FULL')
    if (m.byteLength > this.maxBytes) return reject('UPDATE_TOO_LARGE')
    if (m.length < 2 || Math.ceil(m.byteLength / UPDATE_CHUNK_BYTES) !== m.length - 1)
      return reject('UPDATE_INVALID')
    const usable = o.entries.filter((e) => this.fetchable(e) && !e.fetchError).length
    const line: JournalOffer = {
      t: 'offer',
      round: o.round,
      contributor,
      core: hexOf(m.core),
      start: m.start,
      length: m.length,
      byteLength: m.byteLength,
      hash,
      samples: m.samples,
      receivedAt,
      signatureValid: updateCoreKey(peer.key, this.project).equals(m.core),
    }
    const verdict = this.knownVerdict(o, line, o.entries.length)
    if (verdict === null && usable >= this.manifest.recipe.maxUpdates) return reject('ROUND_FULL')
    const entry = this.addEntry(o, line)
    // Journal before acknowledging: once `received` is sent, a restart must still know the offer.
    const journaled = this.journal?.append(line) ?? Promise.resolve()
    journaled.then(
      () => {
        this.ack(peer.key, o.round, m.hash, 'received')
        const verdict = entry.verdict
        this.emit('offer', {
          round: o.round,
          contributor,
          hash,
          ...(verdict
            ? { status: 'recorded', reason: ACK_REASON[verdict] }
            : { status: 'received' }),
        })
      },
      (err: unknown) => this.emit('warning', err),
    )
  }

  /** A verdict that needs no download, for the entry at `index` while the round collects. */
  private knownVerdict(o: OpenRound, e: JournalOffer, index: number): RejectionReason | null {
    return collectingVerdict(o.entries, e, index, this.facts(o))
  }

  private facts(o: OpenRound): RoundFacts {
    return { deadline: o.deadline, seenBefore: o.history.seenBefore }
  }

  /**
   * The receipt's entries and verdicts, with the bytes each needs. An update whose download failed
   * leaves the receipt, so verdicts that depended on it (a duplicate of its hash, a second update
   * of its contributor) are decided again, as computeRound and a verifier will see them; updates
   * that now need their bytes are downloaded, together with the later duplicates that would need
   * theirs if those failed too, all at once, in a few waves at most (a free identity cannot chain
   * one timeout after another). What still lacks bytes it needs is left out of the receipt.
   */
  private async settleVerdicts(o: OpenRound): Promise<Kept<Entry>[]> {
    const pass = () => settlePass(o.entries, this.facts(o))
    let kept = pass()
    for (let wave = 0; wave < CLOSE_FETCH_WAVES && !this.stopping; wave++) {
      const need = missingBytes(kept)
      if (need.length === 0) break
      await Promise.all(closeFetchWave(o.entries, need).map((e) => this.fetchWhileClosing(o, e)))
      kept = pass()
    }
    // Out of waves (or stopping): whatever still lacks its bytes is left out.
    for (
      let need = missingBytes(kept);
      need.length > 0 && !this.stopping;
      need = missingBytes(kept)
    ) {
      for (const e of need) e.lateFetchError = 'UPDATE_UNAVAILABLE'
      kept = pass()
    }
    if (!this.stopping) {
      const listed = new Set(kept.map((k) => k.entry))
      for (const e of o.entries)
        if (!listed.has(e) && !e.fetchError && e.lateFetchError)
          this.ack(Buffer.from(e.contributor, 'hex'), o.round, e.hash, 'rejected', e.lateFetchError)
    }
    return kept
  }

  /** A download for settleVerdicts: no ack (the receipt or its absence answers), its own error. */
  private async fetchWhileClosing(o: OpenRound, e: Entry): Promise<void> {
    try {
      e.encoded = await this.download(o, e, this.fetchTimeoutMs)
    } catch (err) {
      if (this.stopping) return
      if (!isTandemError(err)) this.emit('warning', err)
      e.lateFetchError = isTandemError(err) ? err.code : 'UPDATE_UNAVAILABLE'
    }
  }

  private fetchable(e: Entry): boolean {
    return e.verdict === null
  }

  private addEntry(o: OpenRound, line: JournalOffer): Entry {
    const entry: Entry = {
      ...line,
      verdict: this.knownVerdict(o, line, o.entries.length),
      encoded: null,
      fetchError: null,
      fetching: null,
      lateFetchError: null,
    }
    o.entries.push(entry)
    o.byKey.set(`${line.contributor}:${line.core}:${line.start}:${line.hash}`, entry)
    if (entry.verdict === null) entry.fetching = this.fetch(o, entry)
    return entry
  }

  /** The offered update's bytes from the contributor's core, verified against the offer. */
  private async download(o: OpenRound, e: Entry, timeout: number): Promise<Uint8Array> {
    const core = this.opts.store.get({ key: Buffer.from(e.core, 'hex') })
    o.cores.push(core)
    const got = await fetchUpdate(core, {
      start: e.start,
      length: e.length,
      byteLength: e.byteLength,
      expectedHash: e.hash,
      project: this.project,
      round: o.round,
      maxBytes: this.maxBytes,
      // 0 would mean "wait forever" to hypercore
      timeout: Math.max(1, timeout),
    })
    return got.encoded
  }

  private async fetch(o: OpenRound, e: Entry): Promise<void> {
    try {
      e.encoded = await this.download(
        o,
        e,
        Math.max(o.deadline - this.now(), 0) + this.fetchTimeoutMs,
      )
    } catch (err) {
      if (this.stopping) return // cores closed under it: the round resumes at the next start
      if (!isTandemError(err)) this.emit('warning', err)
      e.fetchError = isTandemError(err) ? err.code : 'UPDATE_UNAVAILABLE'
      this.ack(Buffer.from(e.contributor, 'hex'), o.round, e.hash, 'rejected', e.fetchError)
      this.emit('offer', {
        round: o.round,
        contributor: e.contributor,
        hash: e.hash,
        status: 'rejected',
        reason: e.fetchError,
      })
      return
    }
    const ready = o.entries.filter((x) => x.encoded && this.fetchable(x)).length
    if (!o.closeStarted && ready >= this.manifest.recipe.maxUpdates) {
      o.closeStarted = true
      o.wake()
    }
  }
}
