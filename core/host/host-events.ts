/**
 * What a project host reports: its states and events, for the UI, the API, the CLI and tests.
 * One file so that each part of the host (round-loop.ts, offer-intake.ts, update-downloads.ts,
 * announcer.ts) can emit them without importing the class that composes them. docs/host.md
 * ("Events") describes each one.
 */
import type { Contribution } from '../ledger/entries.js'
import type { Announce } from '../wire/messages.js'

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

/** The host's emit, handed to the parts it is composed of. */
export type EmitHostEvent = <K extends keyof HostEvents>(event: K, ...args: HostEvents[K]) => void
