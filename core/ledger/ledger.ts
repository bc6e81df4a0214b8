/**
 * The host's side of a project ledger. Every state change is ONE hypercore append batch, which
 * hypercore applies all or nothing:
 *
 *   createProject   [manifest, checkpoint 0 header, its chunks]
 *   openRound       [round-open r]
 *   closeRound      [receipt r, checkpoint r+1 header, its chunks, outer-state r+1 header, chunks]
 *                   or, with outer updates (manifest.ts, outerUpdates; round-start.ts):
 *                   [receipt r, outer-update r + chunks, (checkpoint r+1 + chunks when full),
 *                    outer-state r+1 + chunks, outer-residual r+1 + chunks]
 *
 * Receipt, next checkpoint and next outer momentum share a batch so that "credits granted" and
 * "round advanced" are one fact, and the optimizer state a restarted host continues from is always
 * the one that produced the checkpoint: a host killed before the batch lands has granted nothing and re-runs round r from the
 * updates still in contributors' cores; killed after, it reopens, sees receipt r and goes on with
 * round r+1. closeRound refuses a round that already has a receipt, so no credit is granted twice.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHash } from 'node:crypto'
import { TandemError } from '../api/errors.js'
import { encodeCheckpoint } from '../engine/checkpoint.js'
import { initialWeights } from '../engine/model/init.js'
import { decodeCheckpoint } from '../engine/checkpoint.js'
import type { Change, Vote } from './amendments.js'
import {
  checkpointBlocks,
  encodeEnact,
  encodeProposal,
  encodeVote,
  encodeReceipt,
  encodeRoundOpen,
  outerResidualBlocks,
  outerStateBlocks,
  outerUpdateBlocks,
  type Receipt,
} from './entries.js'
import { changeProblem, dueEnactments, effectiveManifest } from './governance.js'
import type { HeldCheckpoint } from './checkpoint-chain.js'
import { createManifest, fullCheckpointAt, type Manifest, type ProjectSpec } from './manifest.js'
import {
  readCheckpoint,
  readLedger,
  readOuterResidual,
  readOuterState,
  type LedgerState,
} from './reader.js'
import { checkReceiptCredits } from './receipts.js'
import { boundaryWeights } from './swap-changes.js'

export interface HostKeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

function outOfOrder(message: string): never {
  throw new TandemError('LEDGER_OUT_OF_ORDER', message)
}

function checkpointBatch(
  manifest: Manifest,
  round: number,
  weights: Float32Array,
  blocks = checkpointBlocks,
): { blocks: Buffer[]; contentHash: string } {
  const file = encodeCheckpoint(manifest.model, round, weights)
  const { contentHash } = decodeCheckpoint(file)
  return { blocks: blocks(round, file, contentHash), contentHash }
}

/** Writes a new ledger (manifest + checkpoint 0) and returns the project key (the core's key). */
export async function createProject(
  store: Corestore,
  spec: ProjectSpec,
  host: HostKeyPair,
  now = Date.now(),
): Promise<string> {
  const manifest = createManifest(spec, host.publicKey.toString('hex'), now)
  const core = store.get({ keyPair: host })
  try {
    await core.ready()
    if (core.length > 0)
      throw new TandemError('WRONG_STATE', 'this host key pair already has a ledger')
    await core.append([
      Buffer.from(JSON.stringify(manifest), 'utf8'),
      ...checkpointBatch(manifest, 0, initialWeights(manifest.model, manifest.seed)).blocks,
    ])
    return core.key!.toString('hex')
  } finally {
    await core.close()
  }
}

/**
 * The last model amendment among the proposals `enact` (ledger order), with the weights its first
 * round starts from; null when none changes the model.
 */
function modelStart(
  state: LedgerState,
  enact: number[],
): { model: Manifest['model']; weights: Float32Array } | null {
  let start: { model: Manifest['model']; weights: Float32Array } | null = null
  for (const i of enact) {
    const change = state.governance?.proposals.find((p) => p.index === i)?.value.change
    if (change?.kind === 'model') start = { model: change.model, weights: boundaryWeights(change) }
  }
  return start
}

/** What closeRound appends for an outer-update project (core/host/outer-update.ts makes it). */
export interface OuterUpdateWrite {
  /** U_r, encoded (codec.ts bytes). */
  bytes: Uint8Array
  /** The host's residual entering round r+1. */
  residual: Float32Array
}

export class LedgerWriter {
  private queue: Promise<unknown> = Promise.resolve()
  /** The last checkpoint written or read: outer-update checkpoints are rebuilt from it. */
  private held: HeldCheckpoint | null = null

  private constructor(
    readonly core: Hypercore,
    private current: LedgerState,
  ) {}

  /**
   * Opens a ledger this host writes and recovers its last complete state: a torn tail (see
   * reader.ts; not something this writer produces) is truncated away, since it never was state.
   */
  static async open(store: Corestore, host: HostKeyPair): Promise<LedgerWriter> {
    const core = store.get({ keyPair: host })
    try {
      await core.ready()
      if (!core.writable) throw new TandemError('WRONG_STATE', 'the ledger is not writable here')
      let state = await readLedger(core, { wait: false })
      if (state.tornTail) {
        await core.truncate(state.completeLength)
        state = await readLedger(core, { wait: false })
      }
      return new LedgerWriter(core, state)
    } catch (err) {
      await core.close().catch(() => {}) // the rethrown error says what failed; this is cleanup
      throw err
    }
  }

  get key(): string {
    return this.core.key!.toString('hex')
  }

  get state(): LedgerState {
    return this.current
  }

  get manifest(): Manifest {
    return this.current.manifest
  }

  /** The round in progress or about to open: the last one with a checkpoint. */
  get round(): number {
    return this.current.rounds.length - 1
  }

  async weights(round = this.round): Promise<Float32Array> {
    if (this.held?.round === round) return Float32Array.from(this.held.weights)
    const from = this.held ?? undefined
    const { weights } = await readCheckpoint(this.core, this.current, round, { wait: false, from })
    this.held = { round, weights: Float32Array.from(weights) }
    return weights
  }

  /** The host's error-feedback residual entering `round` (outer-update projects; zeros for 0). */
  async outerResidual(round = this.round): Promise<Float32Array> {
    return readOuterResidual(this.core, this.current, round, { wait: false })
  }

  /** Outer momentum entering `round` (zeros for round 0). */
  async momentum(round = this.round): Promise<Float32Array> {
    return readOuterState(this.core, this.current, round, { wait: false })
  }

  /**
   * Opens the current round. Passed amendments due at this boundary (governance.ts) are enacted in
   * the same batch, in front of the round-open; `enact` overrides the list (tests of a dishonest host).
   * A model amendment among them brings the new model's starting checkpoint and zero outer-state
   * into the batch (swap-changes.ts), and the round opens on that checkpoint; `boundary` overrides
   * its weights (tests of a dishonest host).
   */
  async openRound(o: {
    openedAt: number
    deadline: number
    assignmentSeed: string
    enact?: number[]
    boundary?: (weights: Float32Array) => Float32Array
  }): Promise<void> {
    let started = null as HeldCheckpoint | null
    await this.append(() => {
      const r = this.current.rounds[this.round]!
      if (r.open) outOfOrder(`round ${r.round} is already open`)
      const { enact = dueEnactments(this.current, r.round), boundary, ...open } = o
      const start = modelStart(this.current, enact)
      let checkpointHash = r.checkpoint.contentHash
      const blocks: Buffer[] = []
      if (start) {
        const weights = boundary ? boundary(start.weights) : start.weights
        const manifest = { ...this.manifest, model: start.model }
        const next = checkpointBatch(manifest, r.round, weights)
        const momentum = new Float32Array(weights.length)
        blocks.push(...next.blocks)
        blocks.push(...checkpointBatch(manifest, r.round, momentum, outerStateBlocks).blocks)
        checkpointHash = next.contentHash
        started = { round: r.round, weights: Float32Array.from(weights) }
      }
      return [
        ...enact.map((p) => encodeEnact(p)),
        ...blocks,
        encodeRoundOpen({ round: r.round, checkpointHash, ...open }),
      ]
    })
    // The held checkpoint of this round was the old model's: the round opens on the new one.
    if (started) this.held = started
  }

  /** The manifest in effect in `round` (the base manifest plus enacted amendments). */
  effectiveManifest(round = this.round): Manifest {
    return effectiveManifest(this.current, round)
  }

  /**
   * Appends a proposal made now (the current round); returns its id, the block index. A change
   * that cannot apply to the manifest in effect is BAD_ARGUMENT.
   */
  propose(title: string, change: Change, proposedAt = Date.now()): Promise<number> {
    return this.append(() => {
      const problem = changeProblem(this.effectiveManifest(), change)
      if (problem) throw new TandemError('BAD_ARGUMENT', `cannot propose this change: ${problem}`)
      return [encodeProposal({ round: this.round, proposedAt, title, change })]
    })
  }

  /**
   * Records a vote; returns its block index. `check` runs on the state the vote would be appended
   * to (after any batch queued before it) and throws to refuse it (host/vote-intake.ts).
   */
  recordVote(vote: Vote, check?: (state: LedgerState) => void): Promise<number> {
    return this.append(() => {
      check?.(this.current)
      return [encodeVote(vote)]
    })
  }

  /**
   * Appends receipt r, checkpoint r+1 and outer-state r+1 together (see the file comment); in an
   * outer-update project also U_r and the residual (`outerUpdate`, required there, refused
   * elsewhere), and checkpoint r+1's file only for full rounds. `nextWeights` must then be
   * checkpoint r + D(U_r): readers check the ledger's hash against exactly that.
   */
  async closeRound(
    receipt: Omit<Receipt, 'v' | 'round' | 'checkpointIn' | 'checkpointOut'>,
    nextWeights: Float32Array,
    nextMomentum: Float32Array,
    outerUpdate?: OuterUpdateWrite,
  ): Promise<void> {
    const r = this.current.rounds[this.round]!
    if (!r.open) outOfOrder(`round ${r.round} is not open`)
    if (r.receipt) outOfOrder(`round ${r.round} already has a receipt`)
    // The model trained in round r (a model amendment at r + 1 writes its own start: openRound).
    // Whether and when the project publishes outer updates is the base manifest's (not amendable).
    const manifest = this.effectiveManifest(r.round)
    if ((this.manifest.recipe.outerUpdates !== undefined) !== (outerUpdate !== undefined))
      throw new TandemError(
        'BAD_ARGUMENT',
        outerUpdate
          ? 'this project does not publish outer updates'
          : 'this project publishes outer updates: closeRound needs one',
      )
    const next = checkpointBatch(manifest, r.round + 1, nextWeights)
    const outer = checkpointBatch(manifest, r.round + 1, nextMomentum, outerStateBlocks)
    const checkpointOut = next.contentHash
    const full: Receipt = {
      v: 1,
      ...receipt,
      round: r.round,
      checkpointIn: r.checkpoint.contentHash,
      checkpointOut,
    }
    checkReceiptCredits(manifest, full)
    const { v: _v, ...body } = full
    if (!outerUpdate) {
      await this.append([encodeReceipt(body), ...next.blocks, ...outer.blocks])
      this.held = { round: r.round + 1, weights: Float32Array.from(nextWeights) }
      return
    }
    const update = outerUpdateBlocks(
      {
        round: r.round,
        checkpointIn: r.checkpoint.contentHash,
        checkpointOut,
        hash: createHash('sha256').update(outerUpdate.bytes).digest('hex'),
      },
      outerUpdate.bytes,
    )
    const residual = checkpointBatch(
      manifest,
      r.round + 1,
      outerUpdate.residual,
      outerResidualBlocks,
    )
    await this.append([
      encodeReceipt(body),
      ...update,
      ...(fullCheckpointAt(this.manifest, r.round + 1) ? next.blocks : []),
      ...outer.blocks,
      ...residual.blocks,
    ])
    this.held = { round: r.round + 1, weights: Float32Array.from(nextWeights) }
  }

  /**
   * Appends one batch and re-reads the state. Serialised: the round loop and the governance intake
   * (votes) write concurrently, and each must see the state its own batch produced. Resolves to the
   * batch's first block index.
   */
  private append(blocks: Buffer[] | (() => Buffer[])): Promise<number> {
    const run = async () => {
      const batch = typeof blocks === 'function' ? blocks() : blocks
      const first = this.core.length
      await this.core.append(batch)
      this.current = await readLedger(this.core, { wait: false })
      return first
    }
    const next = this.queue.then(run, run)
    this.queue = next.catch(() => {})
    return next
  }

  async close(): Promise<void> {
    await this.core.close()
  }
}
