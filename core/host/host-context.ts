/**
 * What the parts of a running project host share (docs/host.md, "Code layout"): the dependencies
 * handed to ProjectHost, its limits, and the one piece of mutable state they all look at, the
 * round being collected or closed. host.ts creates it at start(); round-loop.ts sets `open`;
 * offer-intake.ts, update-downloads.ts and announcer.ts read it.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { HostKeyPair, LedgerWriter } from '../ledger/ledger.js'
import type { Manifest } from '../ledger/manifest.js'
import type { SwarmNode } from '../net/swarm-node.js'
import type { EmitHostEvent, HostState } from './host-events.js'
import type { JournalOffer, OfferJournal } from './journal.js'
import type { OfferState } from './settle.js'
import type { RoundFacts } from './verdicts.js'

/** An offer of the open round (settle.ts): its verdict without bytes, its bytes, its download. */
export interface Entry extends OfferState {
  fetching: Promise<void> | null
  /** The checkpoint hash its update header names, once downloaded (rebase.ts, overlap only). */
  startedFrom?: string
}

export interface OpenRound {
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
  /** Ends the loop's wait for the deadline early (maxUpdates reached, stop()). */
  wake: () => void
  /** Update cores opened for downloads; closed when the round ends. */
  cores: Hypercore[]
  /** Update hashes and reputations from the receipts before this round. */
  history: { seenBefore: Set<string>; reputation: Map<string, number> }
}

export interface HostLimits {
  /** The most bytes a valid update of this project can take. */
  maxBytes: number
  /** ms a single update download may take after the round's deadline. */
  fetchTimeoutMs: number
  /** Offers one contributor may make per round, retransmissions aside. */
  maxOffersPerPeer: number
  /** Offers one round records at most. */
  maxRoundEntries: number
}

export interface HostContext {
  readonly project: Buffer
  readonly node: SwarmNode
  /** The node's corestore: ledger, dataset and the contributors' update cores. */
  readonly store: Corestore
  readonly keyPair: HostKeyPair
  readonly ledger: LedgerWriter
  readonly manifest: Manifest
  readonly journal: OfferJournal | null
  readonly limits: HostLimits
  readonly now: () => number
  readonly emit: EmitHostEvent
  state: HostState
  /** The round being collected or closed; null between rounds. */
  open: OpenRound | null
  /** Set by stop(): no new offers, downloads cut short, nothing written for an unclosed round. */
  stopping: boolean
}

/** The retransmission key of an offer. */
export const offerKey = (o: Pick<JournalOffer, 'contributor' | 'core' | 'start' | 'hash'>) =>
  `${o.contributor}:${o.core}:${o.start}:${o.hash}`

/** The round's facts the offer-stage verdict rules read (verdicts.ts). */
export const roundFacts = (o: OpenRound): RoundFacts => ({
  deadline: o.deadline,
  seenBefore: o.history.seenBefore,
})

/** Offers whose bytes decide their verdict and whose download has not failed. */
export const usableCount = (o: OpenRound): number =>
  o.entries.filter((e) => e.verdict === null && !e.fetchError).length
