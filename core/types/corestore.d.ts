/**
 * Types for corestore 7.12.5 (plain JavaScript upstream), declared from the installed
 * node_modules/corestore/index.js. Only what Tandem uses; widen as needed with upstream's names.
 */
declare module 'corestore' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex, Readable } from 'node:stream'
  import type Hypercore from 'hypercore'

  namespace Corestore {
    interface Options {
      /** Unsafe upstream unless `unsafe: true` is also set: keys derive from it. */
      primaryKey?: Buffer
      unsafe?: boolean
      writable?: boolean
      readOnly?: boolean
      /** Attach downloading cores to existing and future replication streams (default true). */
      active?: boolean
    }

    interface GetOptions extends Hypercore.SessionOptions {
      /** A writable core whose key pair derives from the store's primary key and this name. */
      name?: string
      key?: Buffer | string | null
      discoveryKey?: Buffer
    }
  }

  class Corestore extends EventEmitter {
    constructor(storage: string, opts?: Corestore.Options)

    readonly opened: boolean
    readonly closing: Promise<void> | null
    readonly primaryKey: Buffer | null

    ready(): Promise<void>
    close(): Promise<void>
    /** A core by key (Buffer, hex or z32) or by options; each call is a new session to close. */
    get<T = Buffer>(keyOrOpts: Buffer | string | Corestore.GetOptions): Hypercore<T>
    /** Replicates every loaded core, and cores the remote asks for that are stored here. */
    replicate(isInitiatorOrStream: boolean | Duplex, opts?: { keepAlive?: boolean }): Duplex
    session(opts?: Corestore.Options): Corestore
    namespace(name: string | Buffer, opts?: Corestore.Options): Corestore
    /** Discovery keys of stored cores (all, or one namespace's). */
    list(namespace?: Buffer): Readable & AsyncIterable<Buffer>
    createKeyPair(name: string, ns?: Buffer): Promise<Hypercore.KeyPair>
    /** Marks a discovery round; call the result when it is done (see Hypercore#findingPeers). */
    findingPeers(): () => void
    suspend(): Promise<void>
    resume(): Promise<void>
    /** Called with the internal core of every core opened from now on (for weak sessions). */
    watch(fn: (core: unknown) => void): void
    unwatch(fn: (core: unknown) => void): void
  }
  export = Corestore
}
