/** Traffic counters: one set per peer and one for the whole node, shown by status and the UI. */
export interface WireCounters {
  /** Control messages received and accepted. */
  rx: number
  /** Control messages sent. */
  tx: number
  rxBytes: number
  txBytes: number
  /** Messages that failed a size, decode, semantic or signature check, or broke a limit. */
  invalid: number
  /** Our own sends refused because the peer was not draining. */
  dropped: number
  /** Messages of a type id this build does not define (dropped; too many is a ban). */
  unknown: number
}

export interface NodeCounters extends WireCounters {
  /** Peers banned since start. */
  bans: number
  /** Connections refused because of a ban or the peer limit. */
  refused: number
  connections: number
  /** Errors thrown by our own message handlers (bugs, not the peer's fault). */
  handlerErrors: number
  /** Connections reset by a bad replication handshake (INVALID_CAPABILITY); a few earn a ban. */
  replicationFaults: number
  /** Bans ended early to make room in the full ban table. */
  bansEvicted: number
}

export function wireCounters(): WireCounters {
  return { rx: 0, tx: 0, rxBytes: 0, txBytes: 0, invalid: 0, dropped: 0, unknown: 0 }
}

export function nodeCounters(): NodeCounters {
  return {
    ...wireCounters(),
    bans: 0,
    refused: 0,
    connections: 0,
    handlerErrors: 0,
    replicationFaults: 0,
    bansEvicted: 0,
  }
}
