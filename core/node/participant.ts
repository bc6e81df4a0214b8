/**
 * The contributor's side of ONE project: follow the host's ledger, train each open round on this
 * node's assigned shards, publish the compressed Δ to this node's own update core and offer it to
 * the host, then pick up the verdict from the round's receipt.
 *
 * The ledger is the source of truth, the host's messages are only hints. A round is trained when
 * the replicated ledger shows it open (round-open r, no receipt) and its deadline has not passed;
 * a roundOpen message from the host (its Noise key must be the manifest's host key) makes us look
 * at once, may extend the deadline (never shorten it) and makes us re-send an offer the host has not
 * acknowledged (a restarted host forgot it). The checkpoint, the assignment and the samples credited
 * all come from the ledger and the manifest, never from a message.
 *
 * Faults handled: the ledger or dataset not replicated yet (we wait, and say so), the host offline
 * (the offer waits for it and is re-sent on reconnect and on every roundOpen), the round closing
 * while we train (the engine is stopped and nothing is offered), our own restart mid-round (the last
 * update in our update core is found and re-offered instead of training again), and stop().
 *
 * With a stateDir the error-feedback residual survives restarts (residual-file.ts): it is saved
 * after each update is published, and read back only if it follows the last update in our core.
 *
 * A Δ finished after the deadline is not offered: the host would only record it as late (see
 * docs/host.md, stragglers), which costs reputation and helps no one.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { EventEmitter } from 'node:events'
import { isTandemError, TandemError } from '../api/errors.js'
import { assignShards } from '../data/assignment.js'
import { Dataset } from '../data/dataset.js'
import { DiskCap } from '../data/disk-cap.js'
import { ShardSampler, type SamplerOptions } from '../data/sampler.js'
import { ErrorFeedback } from '../engine/compress/error-feedback.js'
import { TrainingEngine, type EngineOptions } from '../engine/engine.js'
import type { InnerJob, StepInfo } from '../engine/inner-loop.js'
import { parameterCount } from '../host/round.js'
import { openContributorUpdateCore } from '../ledger/update-core.js'
import type { Contribution } from '../ledger/entries.js'
import { roundSamples, type Manifest } from '../ledger/manifest.js'
import { readCheckpoint, readLedger, type LedgerState } from '../ledger/reader.js'
import { lastUpdateHeader, publishUpdate } from '../ledger/updates.js'
import type { TandemNode } from '../net/node.js'
import type { Peer } from '../net/peer.js'
import type { UpdateOffer, WireMessage } from '../wire/messages.js'
import { ParticipantFiles } from './participant-files.js'

export type ParticipantState =
  | 'starting'
  | 'waiting-ledger'
  | 'waiting-data'
  | 'idle'
  | 'training'
  | 'publishing'
  | 'host-offline'
  | 'waiting-ack'
  | 'waiting-receipt'
  | 'stopped'

export type OfferStatus = 'sent' | 'received' | 'accepted' | 'rejected' | 'not-in-receipt'

export interface OfferRecord {
  round: number
  /** Hex SHA-256 of the encoded Δ (the ack's ref). */
  hash: string
  offer: UpdateOffer
  status: OfferStatus
  /** The host's ack reason or the receipt's rejection reason. */
  reason?: string
  /** Last time it went to the host (our clock); null: never reached it. */
  sentAt: number | null
  /** First time it went to the host in this run (our clock): our side of the arrival time. */
  firstSentAt?: number
}

/** One of our contributions as the ledger's receipt recorded it. */
export interface ReceiptRecord extends Contribution {
  round: number
  closedAt: number
  /** The deadline the round closed under (the receipt's; absent in older ledgers). */
  deadline?: number
  /** When this node first sent the offer (its own clock), to hold against `receivedAt`. */
  offeredAt?: number
}

export interface Progress {
  round: number
  step: number
  steps: number
  loss: number
  samplesPerSec: number
  /** Estimated ms until this round's training finishes. */
  etaMs: number
  /** The round's deadline (Unix ms). */
  deadline: number
}

export interface ParticipantStatus {
  project: string
  state: ParticipantState
  detail: string
  round: number | null
  training: { round: number; step: number; steps: number } | null
  offers: OfferRecord[]
  receipts: ReceiptRecord[]
  hostConnected: boolean
}

export interface ParticipantEvents {
  state: [ParticipantState, string]
  progress: [Progress]
  offer: [OfferRecord]
  receipt: [ReceiptRecord]
  /** A round's training finished (offered or not): compute time for the node's scheduler. */
  trained: [{ round: number; seconds: number; samples: number }]
  /** Something failed locally; the participant carries on (retries, or waits for the next round). */
  warning: [unknown]
}

export interface ParticipantOptions {
  node: TandemNode
  /** The node's corestore (the one `node` replicates). */
  store: Corestore
  /** The node's identity key pair: it signs this node's update core. */
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  project: Uint8Array | string
  /** Default: a new engine with `engineOptions`. */
  engine?: TrainingEngine
  engineOptions?: EngineOptions
  /**
   * Where receipts (`receipts-<project>.json`) and the error-feedback residual
   * (`residual-<project>.bin`) are kept between runs; none: memory only.
   */
  stateDir?: string
  /** ms one ledger or checkpoint read may wait for peers (default 60 s). */
  ledgerTimeoutMs?: number
  /** ms one dataset block may wait for peers (default 60 s). */
  dataTimeoutMs?: number
  /** Re-send an unacknowledged offer this often (default 5 s). */
  offerRetryMs?: number
  /**
   * Asked before training round r: false = not now (another project's turn, paused, outside the
   * schedule). The node calls poke() when the answer may have changed.
   */
  gate?: (round: number) => boolean | Promise<boolean>
  /**
   * This project's disk budget in bytes, read at each round (the setting may change live):
   * shards beyond it are evicted, least recently used first (core/data/disk-cap.ts).
   */
  diskCapBytes?: () => number
  now?: () => number
}

interface Training {
  round: number
  step: number
  steps: number
  /** The round closed under us: the result is thrown away. */
  abandoned: boolean
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')

function projectKeyOf(p: Uint8Array | string): Buffer {
  const buf = typeof p === 'string' ? Buffer.from(p, 'hex') : Buffer.from(p)
  if (buf.byteLength !== 32) throw new TandemError('BAD_ARGUMENT', 'project must be a 32-byte key')
  return buf
}

/** Sampler shape options for a model: the features one record feeds it. */
export function samplerShape(manifest: Manifest): Pick<SamplerOptions, 'seqLen' | 'shape'> {
  const m = manifest.model
  if (m.type === 'transformer') return { seqLen: m.context }
  if (m.type === 'cnn') return { shape: [m.input.height, m.input.width, m.input.channels] }
  return { shape: [m.inputSize] }
}

/** How many shards hold one round's samples (at least one; at most every training shard). */
export function shardsNeeded(manifest: Manifest, dataset: Dataset): number {
  const h = dataset.header
  const total = dataset.trainingShards
  const perShard =
    h.layout.kind === 'tokens' && manifest.model.type === 'transformer'
      ? Math.floor(h.shardRecords / (manifest.model.context + 1))
      : h.shardRecords
  if (perShard < 1) return total
  return Math.max(1, Math.min(total, Math.ceil(roundSamples(manifest) / perShard)))
}

export class Participant extends EventEmitter<ParticipantEvents> {
  readonly project: Buffer
  readonly projectHex: string
  private readonly node: TandemNode
  private readonly store: Corestore
  private readonly keyPair: { publicKey: Buffer; secretKey: Buffer }
  private readonly engine: TrainingEngine
  private readonly now: () => number
  private readonly ledgerTimeoutMs: number
  private readonly dataTimeoutMs: number
  private readonly offerRetryMs: number
  private ledgerCore: Hypercore | null = null
  private updateCore: Hypercore | null = null
  private dataset: Dataset | null = null
  private ledger: LedgerState | null = null
  private feedback: ErrorFeedback | null = null
  private readonly files: ParticipantFiles | null
  private hostKey: Buffer | null = null
  private current: ParticipantState = 'starting'
  private detail = ''
  private training: Training | null = null
  /** Rounds we will not train, and why ('deadline': it had passed; an extension revives it). */
  private readonly skipped = new Map<number, 'deadline' | 'late' | 'failed'>()
  /** Extended deadlines the host announced, by round. */
  private readonly hinted = new Map<number, number>()
  private readonly offers = new Map<number, OfferRecord>()
  private readonly receiptList: ReceiptRecord[] = []
  private readonly seenReceipts = new Set<number>()
  private evaluating = false
  private again = false
  private stopped = false
  private retryTimer: NodeJS.Timeout | null = null
  private readonly teardown: Array<() => void> = []

  constructor(private readonly opts: ParticipantOptions) {
    super()
    this.node = opts.node
    this.store = opts.store
    this.keyPair = opts.keyPair
    if (!this.node.key.equals(opts.keyPair.publicKey))
      throw new TandemError('BAD_ARGUMENT', "the key pair is not the node's identity")
    this.project = projectKeyOf(opts.project)
    this.projectHex = this.project.toString('hex')
    this.engine = opts.engine ?? new TrainingEngine(opts.engineOptions)
    this.now = opts.now ?? Date.now
    this.ledgerTimeoutMs = opts.ledgerTimeoutMs ?? 60_000
    this.dataTimeoutMs = opts.dataTimeoutMs ?? 60_000
    this.offerRetryMs = opts.offerRetryMs ?? 5_000
    this.files = opts.stateDir ? new ParticipantFiles(opts.stateDir, this.projectHex) : null
  }

  get state(): ParticipantState {
    return this.current
  }

  get manifest(): Manifest | null {
    return this.ledger?.manifest ?? null
  }

  /** The ledger as last read (null until it arrived). */
  get ledgerState(): LedgerState | null {
    return this.ledger
  }

  receipts(): ReceiptRecord[] {
    return this.receiptList.map((r) => ({ ...r }))
  }

  offerFor(round: number): OfferRecord | undefined {
    const o = this.offers.get(round)
    return o ? { ...o } : undefined
  }

  status(): ParticipantStatus {
    const last = this.ledger?.rounds.at(-1)
    return {
      project: this.projectHex,
      state: this.current,
      detail: this.detail,
      round: last?.round ?? null,
      training: this.training
        ? { round: this.training.round, step: this.training.step, steps: this.training.steps }
        : null,
      offers: [...this.offers.values()].map((o) => ({ ...o })),
      receipts: this.receipts(),
      hostConnected: this.hostKey ? Boolean(this.node.peer(this.hostKey)) : false,
    }
  }

  /**
   * Joins the project topic and follows the ledger. Resolves once the ledger and the dataset
   * header are here (waiting for peers as long as it takes, or until stop()).
   */
  async start(): Promise<void> {
    await this.loadReceipts()
    this.node.joinProject(this.project)
    const onMessage = (peer: Peer, msg: WireMessage) => this.onMessage(peer, msg)
    const onPeer = (peer: Peer) => {
      if (this.hostKey && peer.key.equals(this.hostKey)) this.resendOffers()
    }
    this.node.on('message', onMessage)
    this.node.on('peer', onPeer)
    this.node.on('peer-update', onPeer)
    this.teardown.push(() => {
      this.node.off('message', onMessage)
      this.node.off('peer', onPeer)
      this.node.off('peer-update', onPeer)
    })

    this.ledgerCore = this.store.get({ key: this.project })
    await this.ledgerCore.ready()
    const onAppend = () => this.kick()
    this.ledgerCore.on('append', onAppend)
    this.teardown.push(() => this.ledgerCore?.off('append', onAppend))

    this.setState('waiting-ledger', 'looking for the project ledger')
    this.ledger = await this.untilStopped(() => this.readLedger())
    if (!this.ledger) return
    const manifest = this.ledger.manifest
    void this.node.joinDataset(Buffer.from(manifest.dataset.key, 'hex')) // left in stop()
    this.hostKey = Buffer.from(manifest.host, 'hex')

    this.setState('waiting-data', `opening dataset ${manifest.dataset.key.slice(0, 8)}…`)
    this.dataset = await this.untilStopped(() =>
      Dataset.open(this.store.get({ key: Buffer.from(manifest.dataset.key, 'hex') }), {
        timeoutMs: this.dataTimeoutMs,
      }),
    )
    if (!this.dataset) return
    this.updateCore = await openContributorUpdateCore(this.store, this.keyPair, this.project)
    await this.recoverPublished()
    this.feedback = await this.loadFeedback(parameterCount(manifest))
    this.retryTimer = setInterval(() => this.resendOffers(true), this.offerRetryMs)
    this.retryTimer.unref()
    if (!this.pendingOffer()) this.setState('idle', 'waiting for a round')
    this.kick()
  }

  /** Looks at the ledger again now (e.g. the node's gate may answer differently). */
  poke(): void {
    this.kick()
  }

  /** Stops training at the next step and leaves the project. Receipts stay readable. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.training) this.engine.stop()
    if (this.retryTimer) clearInterval(this.retryTimer)
    for (const off of this.teardown) off()
    // Closing the cores ends reads still waiting for peers; then the training job winds down.
    await this.ledgerCore?.close().catch(() => {})
    await this.dataset?.close().catch(() => {})
    while (this.training || this.evaluating) await new Promise((r) => setTimeout(r, 20))
    await this.updateCore?.close().catch(() => {})
    await this.node.leaveProject(this.project).catch(() => {})
    if (this.ledger)
      await this.node.leaveDataset(Buffer.from(this.ledger.manifest.dataset.key, 'hex'))
    this.setState('stopped', '')
  }

  private setState(state: ParticipantState, detail: string): void {
    if (this.stopped && state !== 'stopped') return
    if (state === this.current && detail === this.detail) return
    this.current = state
    this.detail = detail
    this.emit('state', state, detail)
  }

  /** Retries `fn` (1 s apart) until it succeeds or stop() is called; null if stopped. */
  private async untilStopped<T>(fn: () => Promise<T>): Promise<T | null> {
    for (;;) {
      if (this.stopped) return null
      try {
        return await fn()
      } catch (err) {
        if (!isTandemError(err)) throw err
        if (this.stopped) return null
        this.detail = err.message
        await new Promise((r) => setTimeout(r, 1000))
      }
    }
  }

  private async readLedger(): Promise<LedgerState> {
    const core = this.ledgerCore!
    if (core.length === 0) await core.update({ wait: true }).catch(() => false)
    return readLedger(core, { wait: true, timeout: this.ledgerTimeoutMs })
  }

  /** Runs `evaluate` serially: a kick while it runs makes it run once more afterwards. */
  private kick(): void {
    if (this.stopped || !this.dataset) return
    if (this.evaluating) {
      this.again = true
      return
    }
    this.evaluating = true
    void (async () => {
      try {
        do {
          this.again = false
          await this.evaluate()
        } while (this.again && !this.stopped)
      } catch (err) {
        this.emit('warning', err)
      } finally {
        this.evaluating = false
      }
    })()
  }

  private async evaluate(): Promise<void> {
    try {
      this.ledger = await this.readLedger()
    } catch (err) {
      if (!isTandemError(err) || err.code !== 'LEDGER_UNAVAILABLE') throw err
      // No peer holds the new blocks right now (the host went away): look again in a while.
      this.setState('waiting-ledger', err.message)
      setTimeout(() => this.kick(), 2000).unref()
      return
    }
    const state = this.ledger
    this.collectReceipts(state)
    if (this.training && state.rounds[this.training.round]?.receipt && !this.training.abandoned) {
      this.training.abandoned = true
      this.engine.stop()
    }
    if (this.training) return
    const cur = state.rounds.at(-1)!
    const r = cur.round
    if (!cur.open || cur.receipt) {
      if (!this.pendingOffer()) this.setState('idle', `waiting for round ${r} to open`)
      return
    }
    if (this.offers.has(r)) {
      this.resendOffers()
      return
    }
    if (this.skipped.has(r)) return
    const deadline = this.deadline(r, cur.open.deadline)
    if (this.now() >= deadline) {
      this.skipped.set(r, 'deadline')
      this.setState('idle', `round ${r} is past its deadline; waiting for the next`)
      return
    }
    if (this.opts.gate && !(await this.opts.gate(r))) {
      this.setState('idle', `round ${r} is open; waiting for this node's turn`)
      return
    }
    const training: Training = {
      round: r,
      step: 0,
      steps: state.manifest.recipe.innerSteps,
      abandoned: false,
    }
    this.training = training
    const started = this.now()
    void this.train(training, state).finally(() => {
      this.training = null
      // Always, whatever ended the round's work: the node's scheduler frees the engine on it.
      this.emit('trained', {
        round: r,
        seconds: Math.max(0, this.now() - started) / 1000,
        samples: training.step * state.manifest.recipe.batchSize,
      })
      this.kick()
    })
  }

  private cap: DiskCap | null = null

  /** One DiskCap (it remembers which shards were used last), replaced when the budget changes. */
  private diskCap(dataset: Dataset): DiskCap {
    const bytes = this.opts.diskCapBytes!()
    if (!this.cap || this.cap.capBytes !== bytes) this.cap = new DiskCap(dataset, bytes)
    return this.cap
  }

  private deadline(round: number, ledgerDeadline: number): number {
    return Math.max(ledgerDeadline, this.hinted.get(round) ?? 0)
  }

  private pendingOffer(): OfferRecord | undefined {
    return [...this.offers.values()].find((o) => o.status === 'sent' || o.status === 'received')
  }

  private async train(training: Training, state: LedgerState): Promise<void> {
    const { round } = training
    const manifest = state.manifest
    const record = state.rounds[round]!
    const dataset = this.dataset!
    let sampler: ShardSampler | null = null
    try {
      this.setState('training', `round ${round}: fetching checkpoint`)
      // Not past the round's deadline: a checkpoint that arrives later is of no use, and waiting
      // for a host that vanished would hold the engine other projects could use.
      const untilDeadline = this.deadline(round, record.open!.deadline) - this.now()
      const checkpoint = await readCheckpoint(this.ledgerCore!, state, round, {
        wait: true,
        timeout: Math.max(1000, Math.min(this.ledgerTimeoutMs, untilDeadline)),
      })
      const { recipe } = manifest
      const shards = assignShards({
        projectKey: this.project,
        contributorKey: this.keyPair.publicKey,
        round,
        shardCount: dataset.trainingShards,
        count: shardsNeeded(manifest, dataset),
      })
      const job: InnerJob = {
        spec: manifest.model,
        weights: checkpoint.weights,
        steps: recipe.innerSteps,
        schedule: {
          peakLr: recipe.inner.peakLr,
          warmupSteps: recipe.inner.warmupSteps,
          totalSteps: recipe.inner.totalSteps,
          minLrRatio: recipe.inner.minLrRatio,
        },
        adamw: {
          beta1: recipe.inner.beta1,
          beta2: recipe.inner.beta2,
          eps: recipe.inner.eps,
          weightDecay: recipe.inner.weightDecay,
          clipNorm: recipe.inner.clipNorm,
        },
        stepOffset: round * recipe.innerSteps,
      }
      const started = this.now()
      this.setState('training', `round ${round}: training on ${shards.length} shard(s)`)
      const outcome = await this.engine.train({
        job,
        batchSize: recipe.batchSize,
        openData: () => {
          sampler?.close()
          sampler = new ShardSampler(dataset, {
            shards,
            batchSize: recipe.batchSize,
            seed: `${this.projectHex}/${round}/${hexOf(this.keyPair.publicKey)}`,
            ...samplerShape(manifest),
            read: { timeoutMs: this.dataTimeoutMs },
            ...(this.opts.diskCapBytes ? { diskCap: this.diskCap(dataset) } : {}),
          })
          return sampler
        },
        onStep: (info) => this.onStep(training, info, started, record.open!.deadline),
      })
      if (training.abandoned || this.stopped) return

      const deadline = this.deadline(round, record.open!.deadline)
      if (this.now() > deadline) {
        // The host would only record it as late. The error-feedback residual is left as it was:
        // folding a stale Δ into the next round is what the straggler policy avoids.
        this.skipped.set(round, 'late')
        this.setState('idle', `round ${round}: finished after the deadline, not offered`)
        return
      }
      this.setState('publishing', `round ${round}: compressing and publishing`)
      const feedback = (this.feedback ??= new ErrorFeedback(outcome.delta.length))
      const before = Float32Array.from(feedback.residual)
      const compressed = feedback.compress(outcome.delta, recipe.compression)
      let ref: Awaited<ReturnType<typeof publishUpdate>>
      try {
        ref = await publishUpdate(this.updateCore!, {
          project: this.project,
          round,
          checkpointHash: record.checkpoint.contentHash,
          samples: roundSamples(manifest),
          encoded: compressed.bytes,
        })
      } catch (err) {
        feedback.residual.set(before) // nothing was sent: what compression left out is still owed
        throw err
      }
      const offer: UpdateOffer = {
        project: this.project,
        round,
        core: this.updateCore!.key!,
        start: ref.start,
        length: ref.length,
        byteLength: ref.byteLength,
        hash: ref.hash,
        samples: roundSamples(manifest),
      }
      this.offers.set(round, {
        round,
        hash: hexOf(ref.hash),
        offer,
        status: 'sent',
        sentAt: null,
      })
      this.sendOffer(this.offers.get(round)!)
      // After the offer, so a large model's residual never delays it; the bytes are taken now.
      await this.saveFeedback(feedback, hexOf(ref.hash))
    } catch (err) {
      if (this.stopped) return // stop() closed the cores under the job
      if (isTandemError(err) && err.code === 'ENGINE_STOPPED') {
        if (!this.stopped) this.setState('idle', `round ${round} closed while training`)
        return
      }
      this.emit('warning', err)
      // Transient (a checkpoint or shard that did not arrive): try again while the round lasts.
      if (!this.stopped && isTandemError(err) && /UNAVAILABLE/.test(err.code)) {
        this.setState('idle', `round ${round}: ${err.message}; retrying`)
        setTimeout(() => this.kick(), 2000).unref()
      } else {
        this.skipped.set(round, 'failed')
        this.setState('idle', `round ${round} failed: ${(err as Error).message}`)
      }
    } finally {
      ;(sampler as ShardSampler | null)?.close()
    }
  }

  private onStep(training: Training, info: StepInfo, started: number, deadline: number): void {
    training.step = info.step + 1
    const elapsed = Math.max(1, this.now() - started)
    const perStep = elapsed / training.step
    this.emit('progress', {
      round: training.round,
      step: training.step,
      steps: training.steps,
      loss: info.loss,
      samplesPerSec: info.ms > 0 ? (info.samples * 1000) / info.ms : 0,
      etaMs: Math.round(perStep * (training.steps - training.step)),
      deadline: this.deadline(training.round, deadline),
    })
  }

  private sendOffer(o: OfferRecord): void {
    if (this.stopped || !this.hostKey) return
    if (!this.node.peer(this.hostKey)) {
      this.setState('host-offline', `round ${o.round}: update ready, waiting for the host`)
      return
    }
    try {
      this.node.send(this.hostKey, 'updateOffer', o.offer)
      o.sentAt = this.now()
      o.firstSentAt ??= o.sentAt
      this.setState('waiting-ack', `round ${o.round}: offered to the host`)
      this.emit('offer', { ...o })
    } catch (err) {
      this.emit('warning', err)
    }
  }

  /** Offers the host has not acknowledged yet (or, `stale`, not for offerRetryMs) go again. */
  private resendOffers(stale = false): void {
    for (const o of this.offers.values()) {
      if (o.status !== 'sent') continue
      if (stale && o.sentAt !== null && this.now() - o.sentAt < this.offerRetryMs) continue
      const rec = this.ledger?.rounds[o.round]
      if (rec?.receipt) continue
      this.sendOffer(o)
    }
  }

  private onMessage(peer: Peer, msg: WireMessage): void {
    if (this.stopped || !this.hostKey || !peer.key.equals(this.hostKey)) return
    if (msg.type === 'roundOpen') {
      const m = msg.body
      if (!this.project.equals(m.project)) return
      this.hinted.set(m.round, Math.max(this.hinted.get(m.round) ?? 0, m.deadline))
      // The host extended a round we let pass: there is time again.
      if (this.skipped.get(m.round) === 'deadline' && m.deadline > this.now())
        this.skipped.delete(m.round)
      const o = this.offers.get(m.round)
      // A roundOpen for a round we offered in and that is not settled: the host may have restarted.
      if (o && (o.status === 'sent' || o.status === 'received')) {
        o.status = 'sent'
        this.sendOffer(o)
      }
      void this.ledgerCore?.update({ wait: true }).catch(() => {})
      this.kick()
    } else if (msg.type === 'ack') {
      const m = msg.body
      if (!this.project.equals(m.project)) return
      const o = this.offers.get(m.round)
      if (!o || o.hash !== hexOf(m.ref)) return
      if (o.status === 'accepted' || o.status === 'rejected' || o.status === 'not-in-receipt')
        return
      if (m.status === 'rejected' && m.reason === 'UPDATE_UNAVAILABLE') {
        // The host could not download it (we were away?): offered again after offerRetryMs.
        o.sentAt = this.now()
        o.reason = m.reason
        return
      }
      o.status = m.status
      if (m.reason) o.reason = m.reason
      this.emit('offer', { ...o })
      if (m.status === 'received')
        this.setState('waiting-receipt', `round ${o.round}: the host has the update`)
      else this.setState('waiting-receipt', `round ${o.round}: ${m.status} ${m.reason}`.trim())
    }
  }

  /** Our contributions from every receipt not seen yet; settles the offers they name. */
  private collectReceipts(state: LedgerState): void {
    const me = hexOf(this.keyPair.publicKey)
    let added = false
    for (const rec of state.rounds) {
      const receipt = rec.receipt
      if (!receipt || this.seenReceipts.has(rec.round)) continue
      this.seenReceipts.add(rec.round)
      for (const c of receipt.contributions) {
        if (c.contributor !== me) continue
        if (this.receiptList.some((x) => x.round === rec.round && x.updateHash === c.updateHash))
          continue
        const offer = this.offers.get(rec.round)
        const offeredAt = offer?.hash === c.updateHash ? offer.firstSentAt : undefined
        const entry: ReceiptRecord = {
          ...c,
          round: rec.round,
          closedAt: receipt.closedAt,
          ...(receipt.deadline !== undefined ? { deadline: receipt.deadline } : {}),
          ...(offeredAt !== undefined ? { offeredAt } : {}),
        }
        this.receiptList.push(entry)
        added = true
        this.emit('receipt', { ...entry })
      }
      const o = this.offers.get(rec.round)
      if (o && o.status !== 'accepted' && o.status !== 'rejected') {
        const mine = receipt.contributions.find(
          (c) => c.contributor === me && c.updateHash === o.hash,
        )
        o.status = mine ? (mine.accepted ? 'accepted' : 'rejected') : 'not-in-receipt'
        if (mine?.reason) o.reason = mine.reason
        this.emit('offer', { ...o })
      }
    }
    if (added) void this.saveReceipts().catch((err: unknown) => this.emit('warning', err))
  }

  /**
   * After our own restart: the last update in our update core, if it is for the round still open,
   * is offered again instead of training that round a second time.
   */
  private async recoverPublished(): Promise<void> {
    const cur = this.ledger?.rounds.at(-1)
    if (!cur?.open || cur.receipt) return
    const last = await lastUpdateHeader(this.updateCore!)
    if (!last) return
    const { index, header: h } = last
    if (h.project !== this.projectHex || h.round !== cur.round) return
    if (h.checkpointHash !== cur.checkpoint.contentHash) return
    this.offers.set(cur.round, {
      round: cur.round,
      hash: h.hash,
      offer: {
        project: this.project,
        round: cur.round,
        core: this.updateCore!.key!,
        start: index,
        length: h.chunkCount + 1,
        byteLength: h.byteLength,
        hash: Buffer.from(h.hash, 'hex'),
        samples: h.samples,
      },
      status: 'sent',
      sentAt: null,
    })
    this.sendOffer(this.offers.get(cur.round)!)
  }

  /**
   * The residual saved by an earlier run, if it follows the last update in our core and fits the
   * model; otherwise null (start from zero) with a warning saying why.
   */
  private async loadFeedback(n: number): Promise<ErrorFeedback | null> {
    if (!this.files) return null
    try {
      const last = await lastUpdateHeader(this.updateCore!)
      const residual = await this.files.readResidual(n, last?.header.hash)
      return residual ? new ErrorFeedback(n, residual) : null
    } catch (err) {
      this.emit('warning', err)
      return null
    }
  }

  /** After an update is published; a failed write costs only the residual, so it only warns. */
  private async saveFeedback(feedback: ErrorFeedback, updateHash: string): Promise<void> {
    await this.files
      ?.writeResidual(updateHash, feedback.residual)
      .catch((err: unknown) => this.emit('warning', err))
  }

  /** The error-feedback residual in use (null before the first update); a copy. */
  residual(): Float32Array | null {
    return this.feedback ? Float32Array.from(this.feedback.residual) : null
  }

  /** Deletes what only matters while a member (the residual); receipts stay. After stop(). */
  async discardLocalState(): Promise<void> {
    await this.files?.discardResidual()
  }

  private async loadReceipts(): Promise<void> {
    try {
      this.receiptList.push(...((await this.files?.readReceipts()) ?? []))
    } catch (err) {
      // Only a local cache of what the ledger says (the bad file is set aside): start over, the
      // ledger fills it again.
      this.emit('warning', err)
    }
  }

  private saveReceipts(): Promise<void> {
    return this.files?.writeReceipts(this.receiptList) ?? Promise.resolve()
  }
}
