/**
 * The project host on the swarm: opens rounds in the ledger, tells the project's peers, takes
 * update offers, downloads the updates from the contributors' own cores, closes each round with
 * computeRound (round.ts) and writes receipt + next checkpoint + momentum in one ledger batch.
 * docs/host.md describes the whole; this file composes the parts and owns the lifecycle:
 *
 *   round-loop.ts        open / resume, deadline and extensions, close, final acks
 *   offer-intake.ts      offers checked, journaled, acknowledged, recorded or handed on to fetch
 *   update-downloads.ts  downloads while collecting, and the close-time settle waves
 *   announcer.ts         announce and roundOpen to the project's peers
 *   verdicts.ts          the one table of verdict rules (intake, settle, computeRound, verify)
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
import { EventEmitter } from 'node:events'
import { TandemError } from '../api/errors.js'
import type { Dataset } from '../data/dataset.js'
import type { HostKeyPair, LedgerWriter } from '../ledger/ledger.js'
import type { SwarmNode } from '../net/swarm-node.js'
import type { Peer } from '../net/peer.js'
import type { WireMessage } from '../wire/messages.js'
import { Announcer } from './announcer.js'
import type { HostContext } from './host-context.js'
import type { EmitHostEvent, HostEvents, HostState } from './host-events.js'
import { OfferJournal } from './journal.js'
import { maxRoundEntries, maxUpdateBytes, OfferIntake } from './offer-intake.js'
import { RoundLoop } from './round-loop.js'
import { UpdateDownloads } from './update-downloads.js'
import { VoteIntake } from './vote-intake.js'
import type { Change } from '../ledger/amendments.js'
import { HostDatasets } from './host-datasets.js'

export type {
  HostEvents,
  HostState,
  OfferEvent,
  RoundClosedEvent,
  RoundOpenEvent,
} from './host-events.js'
export { maxRoundEntries, maxUpdateBytes } from './offer-intake.js'
export { assignmentSeed } from './round-loop.js'

export interface ProjectHostOptions {
  node: SwarmNode
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

/** What exists only once start() ran. */
interface Running {
  announcer: Announcer
  loop: RoundLoop
  /** The round loop; resolves when it ends (its failure is in `failure`). */
  done: Promise<void>
  failure: unknown
  /** Undoes start()'s listeners on the node. */
  detach: () => void
}

export class ProjectHost extends EventEmitter<HostEvents> {
  readonly project: Buffer
  private readonly ctx: HostContext
  private running: Running | null = null
  /** The datasets rounds are scored on, the project's and any a dataset amendment named. */
  private readonly datasets: HostDatasets

  constructor(private readonly opts: ProjectHostOptions) {
    super()
    const manifest = opts.ledger.manifest
    if (!opts.keyPair.publicKey.equals(Buffer.from(manifest.host, 'hex')))
      throw new TandemError('BAD_ARGUMENT', "the key pair is not this project's host key")
    if (!opts.node.key.equals(opts.keyPair.publicKey))
      throw new TandemError(
        'BAD_ARGUMENT',
        "the node's identity must be the project's host key (contributors check roundOpen's sender)",
      )
    if (opts.dataset.keyHex !== manifest.dataset.key)
      throw new TandemError('BAD_ARGUMENT', "the dataset is not the project's")
    this.project = Buffer.from(opts.ledger.key, 'hex')
    this.datasets = new HostDatasets({ store: opts.store, node: opts.node, base: opts.dataset })
    this.ctx = {
      project: this.project,
      node: opts.node,
      store: opts.store,
      keyPair: opts.keyPair,
      ledger: opts.ledger,
      manifest,
      journal: opts.journalDir ? new OfferJournal(opts.journalDir) : null,
      limits: {
        maxBytes: maxUpdateBytes(manifest),
        fetchTimeoutMs: opts.fetchTimeoutMs ?? 60_000,
        maxOffersPerPeer: opts.maxOffersPerPeer ?? 4,
        maxRoundEntries: opts.maxRoundEntries ?? maxRoundEntries(manifest),
      },
      now: opts.now ?? Date.now,
      // Bound: the parts emit as the host, to its listeners.
      emit: this.emit.bind(this) as EmitHostEvent,
      state: 'starting',
      open: null,
      stopping: false,
    }
  }

  get state(): HostState {
    return this.ctx.state
  }

  get round(): number {
    return this.ctx.ledger.round
  }

  /** The ledger as this host last wrote it. */
  get ledgerState() {
    return this.ctx.ledger.state
  }

  status() {
    const o = this.ctx.open
    return {
      project: this.project.toString('hex'),
      state: this.ctx.state,
      round: this.ctx.ledger.round,
      deadline: o?.deadline ?? null,
      offers: o?.entries.length ?? 0,
      fetched: o?.entries.filter((e) => e.encoded).length ?? 0,
      closedRounds: this.running?.loop.closedRounds ?? 0,
    }
  }

  /**
   * Proposes an amendment (docs/governance.md): a proposal entry in the ledger, made in the current
   * round; returns its id (block index). BAD_ARGUMENT for a change that cannot apply.
   */
  async propose(title: string, change: Change): Promise<number> {
    await this.datasets.check(this.ctx.ledger.effectiveManifest(), change)
    const id = await this.ctx.ledger.propose(title, change, this.ctx.now())
    this.running?.announcer.announce()
    return id
  }

  /** Joins the project, announces, and runs rounds in the background until stop(). */
  async start(): Promise<void> {
    if (this.running) throw new TandemError('HOST_ALREADY_RUNNING', 'the host is already running')
    const { ctx, opts } = this
    const datasets = this.datasets
    // Fails fast when the dataset in effect does not fit the model in effect.
    await datasets.validation(ctx.ledger.effectiveManifest())
    const downloads = new UpdateDownloads(ctx)
    const intake = new OfferIntake(ctx, downloads)
    const announcer = new Announcer(ctx)
    const votes = new VoteIntake(ctx)
    const onMessage = (peer: Peer, msg: WireMessage) =>
      msg.type === 'vote' ? votes.onMessage(peer, msg.body) : intake.onMessage(peer, msg)
    const onPeer = (peer: Peer) => announcer.onPeer(peer)
    ctx.node.on('message', onMessage)
    ctx.node.on('peer', onPeer)
    ctx.node.on('peer-update', onPeer)
    ctx.node.joinProject(this.project)
    void ctx.node.joinDataset(opts.dataset.key) // reachable by the dataset key alone
    if (opts.discovery) ctx.node.joinDiscovery()
    announcer.start(opts.announceEveryMs ?? 30_000)
    const loop = new RoundLoop(ctx, {
      announcer,
      intake,
      downloads,
      validation: (m) => datasets.validation(m),
      rounds: opts.rounds,
    })
    const running: Running = {
      announcer,
      loop,
      done: Promise.resolve(),
      failure: null,
      detach: () => {
        ctx.node.off('message', onMessage)
        ctx.node.off('peer', onPeer)
        ctx.node.off('peer-update', onPeer)
      },
    }
    running.done = loop.run().catch((err: unknown) => {
      running.failure = err
      this.emit('warning', err)
    })
    this.running = running
  }

  /** Resolves when the round loop ends (stop(), or the `rounds` limit). */
  async finished(): Promise<void> {
    await this.running?.done
    if (this.running?.failure) throw this.running.failure
  }

  /**
   * Stops taking offers. A round being closed finishes closing first (its ledger batch is one
   * append); an open round stays open in the ledger and resumes at the next start().
   */
  async stop(): Promise<void> {
    const { ctx } = this
    if (ctx.stopping) return this.running?.done
    ctx.stopping = true
    this.running?.announcer.stop()
    ctx.open?.wake()
    this.running?.detach()
    await this.running?.done
    // Leaving only stops discovery for this project's topic; a failure (the swarm already
    // destroyed) is worth a warning, not a failed stop.
    await ctx.node.leaveProject(this.project).catch((err: unknown) => this.emit('warning', err))
    if (this.running) await ctx.node.leaveDataset(this.opts.dataset.key)
    await this.datasets.close((err) => this.emit('warning', err))
    ctx.state = 'stopped'
  }
}
