/**
 * protomux ships plain JavaScript. Only the API Tandem uses is declared, with the module's own
 * names. Encodings are structural so any compact-encoding codec fits.
 */
declare module 'protomux' {
  import type { Duplex } from 'node:stream'

  namespace Protomux {
    interface State {
      start: number
      end: number
      buffer: Uint8Array | null
    }
    interface Encoding<T> {
      preencode(state: State, value: T): void
      encode(state: State, value: T): void
      decode(state: State): T
    }
    interface MessageOptions<T> {
      encoding?: Encoding<T>
      onmessage?: (message: T, channel: Channel) => void | Promise<void>
    }
    interface Message<T> {
      readonly type: number
      readonly encoding: Encoding<T>
      /** Returns false when the stream asks the writer to wait for 'drain'. */
      send(message: T): boolean
    }
    interface ChannelOptions {
      protocol: string
      id?: Uint8Array | null
      unique?: boolean
      userData?: unknown
      messages?: Array<MessageOptions<never>>
      /** Encodes the value given to open(); the remote's arrives decoded in onopen. */
      handshake?: Encoding<unknown>
      onopen?: (handshake: unknown, channel: Channel) => void | Promise<void>
      onclose?: (isRemote: boolean, channel: Channel) => void | Promise<void>
      ondestroy?: (channel: Channel) => void | Promise<void>
      ondrain?: (channel: Channel) => void | Promise<void>
    }
    interface Channel {
      readonly protocol: string
      readonly opened: boolean
      readonly closed: boolean
      readonly destroyed: boolean
      readonly drained: boolean
      open(handshake?: unknown): void
      close(): void
      cork(): void
      uncork(): void
      fullyOpened(): Promise<boolean>
      fullyClosed(): Promise<void>
      addMessage<T>(opts: MessageOptions<T>): Message<T>
    }
  }
  class Protomux {
    constructor(stream: Duplex)
    static from(stream: Duplex | Protomux): Protomux
    static isProtomux(value: unknown): value is Protomux
    readonly stream: Duplex
    readonly drained: boolean
    readonly isProtomux: true
    createChannel(opts: Protomux.ChannelOptions): Protomux.Channel | null
    opened(opts: { protocol: string; id?: Uint8Array | null }): boolean
    pair(
      opts: { protocol: string; id?: Uint8Array | null },
      notify: (id: Uint8Array | null) => void | Promise<void>,
    ): void
    unpair(opts: { protocol: string; id?: Uint8Array | null }): void
    isIdle(): boolean
    destroy(err?: Error): void
  }
  export = Protomux
}
