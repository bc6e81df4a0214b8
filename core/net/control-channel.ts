/**
 * The `tandem/1` protomux channel on one connection: small control messages next to corestore's
 * replication on the same mux (Protomux.from shares it). Every incoming frame passes the rate and
 * in-flight limits, then decodeMessage; frames of type ids we do not define are counted and rate
 * limited too, and past a few are a violation; any failure becomes one coded violation reported to the
 * owner, after which the channel ignores the peer. Nothing thrown here ever reaches protomux: it
 * re-throws native errors, which would kill the process.
 */
import c from 'compact-encoding'
import type { Duplex } from 'node:stream'
import Protomux from 'protomux'
import { TandemError, isTandemError } from '../api/errors.js'
import { decodeMessage, encodeMessage } from '../wire/decode.js'
import {
  MESSAGE_KINDS,
  PROTOCOL,
  type MessageBodies,
  type MessageKind,
  type WireMessage,
} from '../wire/messages.js'
import type { WireCounters } from './counters.js'
import { MessageRateBucket, type PeerLimits } from './limits.js'
import { watchUnknownMessages } from './unknown-messages.js'

export interface ControlChannelHandlers {
  onopen(): void
  /** May be async; its bytes count as in flight until it settles. */
  onmessage(message: WireMessage): void | Promise<void>
  /** The peer broke the protocol; the channel already ignores it from here on. */
  onviolation(err: TandemError): void
  /** Our own handler failed: a local bug, not the peer's fault. */
  onhandlerError(err: unknown): void
  onclose(): void
}

export class ControlChannel {
  private readonly channel: Protomux.Channel | null
  private readonly senders = new Map<MessageKind, Protomux.Message<Uint8Array>>()
  private readonly bucket: MessageRateBucket
  private inboundInFlight = 0
  private outboundInFlight = 0
  private unknownSeen = 0
  private failed = false
  private helloSeen = false
  private isOpen = false

  constructor(
    stream: Duplex,
    private readonly limits: PeerLimits,
    /** Updated together: the peer's own counters and the node's totals. */
    private readonly counters: WireCounters[],
    private readonly handlers: ControlChannelHandlers,
  ) {
    this.bucket = new MessageRateBucket(limits.messagesPerSecond, limits.burst)
    const mux = Protomux.from(stream)
    this.channel = mux.createChannel({
      protocol: PROTOCOL,
      // protomux marks the channel opened only after onopen returns, so keep our own flag.
      onopen: () => {
        this.isOpen = true
        this.handlers.onopen()
      },
      onclose: () => {
        this.isOpen = false
        this.handlers.onclose()
      },
      ondrain: () => {
        this.outboundInFlight = 0
      },
    })
    if (!this.channel) return // the stream is already closing, or a duplicate channel
    for (const kind of MESSAGE_KINDS) {
      const message = this.channel.addMessage<Uint8Array>({
        encoding: c.raw,
        onmessage: (bytes) => this.receive(kind, bytes),
      })
      this.senders.set(kind, message)
    }
    // Without this, protomux drops unregistered type ids before any limit sees them.
    if (!watchUnknownMessages(this.channel, (type, size) => this.receiveUnknown(type, size))) {
      this.handlers.onhandlerError(
        new TandemError('INTERNAL', 'this protomux cannot report unknown message types'),
      )
    }
    this.channel.open()
  }

  get opened(): boolean {
    return this.isOpen && !this.failed
  }

  /** Throws WIRE_CHANNEL_CLOSED, WIRE_BACKPRESSURE, or BAD_ARGUMENT for a message we built wrong. */
  send<K extends MessageKind>(kind: K, body: MessageBodies[K]): void {
    const sender = this.senders.get(kind)
    if (!this.channel || !sender || !this.opened) {
      throw new TandemError('WIRE_CHANNEL_CLOSED', `cannot send ${kind}: channel not open`)
    }
    const bytes = encodeMessage(kind, body)
    if (this.outboundInFlight + bytes.byteLength > this.limits.maxOutboundInFlight) {
      for (const counters of this.counters) counters.dropped++
      throw new TandemError('WIRE_BACKPRESSURE', `peer is not draining; ${kind} dropped`)
    }
    const drained = sender.send(bytes)
    this.outboundInFlight = drained ? 0 : this.outboundInFlight + bytes.byteLength
    for (const counters of this.counters) {
      counters.tx++
      counters.txBytes += bytes.byteLength
    }
  }

  /** Best effort, even after a violation: tells the peer why we are hanging up. */
  sendFinalError(err: TandemError): void {
    const sender = this.senders.get('error')
    if (!sender || !this.isOpen) return
    try {
      const message = err.message.slice(0, 200).replace(/[^\x20-\x7e]/g, '?')
      sender.send(encodeMessage('error', { code: err.code, message, fatal: true }))
    } catch {
      // the stream may already be gone; the ban stands either way
    }
  }

  close(): void {
    this.failed = true
    this.channel?.close()
  }

  private receive(kind: MessageKind, bytes: Uint8Array): void {
    if (this.failed) return
    try {
      if (!this.bucket.take()) {
        throw new TandemError('WIRE_RATE_LIMIT', `more than ${this.limits.messagesPerSecond}/s`)
      }
      if (this.inboundInFlight + bytes.byteLength > this.limits.maxInboundInFlight) {
        throw new TandemError('WIRE_OVERLOAD', 'too many bytes in flight')
      }
      const body = decodeMessage(kind, bytes)
      if (kind !== 'hello' && !this.helloSeen) {
        throw new TandemError('WIRE_UNEXPECTED', `${kind} before hello`)
      }
      if (kind === 'hello') this.helloSeen = true
      for (const counters of this.counters) {
        counters.rx++
        counters.rxBytes += bytes.byteLength
      }
      this.dispatch({ type: kind, body } as WireMessage, bytes.byteLength)
    } catch (err) {
      this.fail(err)
    }
  }

  /** A type id this build does not define: counted and rate limited; past a few, a violation. */
  private receiveUnknown(type: number, size: number): void {
    if (this.failed) return
    this.unknownSeen++
    for (const counters of this.counters) {
      counters.unknown++
      counters.rxBytes += size
    }
    try {
      if (!this.bucket.take()) {
        throw new TandemError('WIRE_RATE_LIMIT', `more than ${this.limits.messagesPerSecond}/s`)
      }
      if (this.unknownSeen > this.limits.maxUnknownMessages) {
        throw new TandemError(
          'WIRE_UNEXPECTED',
          `${this.unknownSeen} messages of undefined types (last: type ${type})`,
        )
      }
    } catch (err) {
      this.fail(err)
    }
  }

  private dispatch(message: WireMessage, size: number): void {
    let result: void | Promise<void>
    try {
      result = this.handlers.onmessage(message)
    } catch (err) {
      this.handlerFailed(err)
      return
    }
    if (!(result instanceof Promise)) return
    this.inboundInFlight += size
    result
      .catch((err: unknown) => this.handlerFailed(err))
      .finally(() => {
        this.inboundInFlight -= size
      })
  }

  /** A handler may reject the peer's message with a coded WIRE_* error; anything else is ours. */
  private handlerFailed(err: unknown): void {
    // Several listeners may have failed at once (see listeners.ts): judge each.
    for (const e of err instanceof AggregateError ? err.errors : [err]) {
      if (isTandemError(e) && e.code.startsWith('WIRE_')) this.fail(e)
      else this.handlers.onhandlerError(e)
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return
    this.failed = true
    for (const counters of this.counters) counters.invalid++
    const coded = isTandemError(err)
      ? err
      : new TandemError('WIRE_MALFORMED', 'unexpected failure on peer input', { cause: err })
    try {
      this.handlers.onviolation(coded)
    } catch (e) {
      this.handlers.onhandlerError(e)
    }
  }
}
