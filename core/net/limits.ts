/**
 * Per-peer limits on the control channel. A token bucket caps the message rate; bytes in flight
 * (received but still being handled, and sent while the peer is not draining) are capped so one
 * peer cannot make us buffer without bound.
 */
export interface PeerLimits {
  /** Sustained control messages per second from one peer. */
  messagesPerSecond: number
  /** Messages a peer may send in a burst above the sustained rate. */
  burst: number
  /** Bytes of received messages whose handlers have not finished. */
  maxInboundInFlight: number
  /** Bytes sent to a peer that has not drained them yet. */
  maxOutboundInFlight: number
  /**
   * Messages of type ids this build does not define, per connection, before the peer is banned
   * (`WIRE_UNEXPECTED`). A few are tolerated: a newer peer should only send a new type to peers
   * whose hello says they know it, but one that gets this wrong is not hostile.
   */
  maxUnknownMessages: number
}

export const DEFAULT_LIMITS: PeerLimits = {
  messagesPerSecond: 50,
  burst: 200,
  maxInboundInFlight: 256 * 1024,
  maxOutboundInFlight: 1024 * 1024,
  maxUnknownMessages: 8,
}

export class MessageRateBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst
    this.last = now()
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate)
    this.last = t
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
