/**
 * The Participant's public shapes: its states, events, options, and the offer and receipt records
 * it reports. Kept apart from the class so the folder's parts (files.ts, outbox.ts, receipts.ts)
 * share them without importing participant.ts, which imports them (no cycle).
 * The long story: docs/node.md, "Participant".
 */
import type Corestore from 'corestore'
import type { TrainingEngine, EngineOptions } from '../../engine/engine.js'
import type { Contribution } from '../../ledger/entries.js'
import type { SwarmNode } from '../../net/swarm-node.js'
import type { UpdateOffer } from '../../wire/messages.js'

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
  node: SwarmNode
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
  /**
   * The project's terms this contributor accepted (charter.ts termsHash), kept by the node between
   * runs; none: kept in memory. Joining accepts the terms in effect at the first ledger read; a
   * change of terms it did not vote for pauses it until acceptTerms() (docs/governance.md).
   */
  terms?: { get(): string | undefined; set(hash: string): void }
  now?: () => number
}

/** Reports a state change: the participant's `setState`, handed to its parts. */
export type SetState = (state: ParticipantState, detail: string) => void
