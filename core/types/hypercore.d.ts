/**
 * Types for hypercore 11.37.1 (plain JavaScript upstream). Declared from the installed source
 * (node_modules/hypercore/index.js, lib/download.js, lib/info.js, lib/replicator.js), not from the
 * online docs, which describe newer releases. Only what Tandem uses is declared; widen as needed,
 * keeping upstream's names and shapes.
 */
declare module 'hypercore' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'

  namespace Hypercore {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer | null
    }

    /** A compact-encoding codec, as accepted wherever a valueEncoding is. */
    interface Codec<T> {
      preencode(state: unknown, value: T): void
      encode(state: unknown, value: T): void
      decode(state: unknown): T
    }
    type ValueEncoding = 'binary' | 'utf-8' | 'json' | Codec<unknown>

    interface Options {
      createIfMissing?: boolean
      overwrite?: boolean
      valueEncoding?: ValueEncoding
      keyPair?: KeyPair
      key?: Buffer | string | null
      /** false: no appends or truncates through this session. */
      writable?: boolean
      /** false: `get` returns null instead of waiting for peers. */
      wait?: boolean
      /** ms a `get` may wait for peers; 0 waits forever. */
      timeout?: number
      /** Whether this session keeps replication lingering for downloads (default true). */
      active?: boolean
      onwait?: (index: number, core: Hypercore) => void
      storage?: unknown
    }

    interface SessionOptions extends Options {
      /** Closes by itself once every non-weak session has closed. */
      weak?: boolean
      exclusive?: boolean
      /** Named, persisted branch of the core (beta upstream). */
      name?: string | null
    }

    interface GetOptions {
      wait?: boolean
      onwait?: (index: number, core: Hypercore) => void
      timeout?: number
      valueEncoding?: ValueEncoding
      decrypt?: boolean
      raw?: boolean
    }

    interface HasRange {
      start?: number
      /** Exclusive; -1 follows the core's length forever. */
      end?: number
      blocks?: number[]
      linear?: boolean
    }

    /** A download request (lib/download.js). */
    interface Download {
      ready(): Promise<void>
      /** Resolves once every block of the range is local; rejects if the range is destroyed. */
      done(): Promise<void>
      destroy(): void
    }

    /** lib/info.js. `storage` is null unless requested; sizes are best-effort. */
    interface Info {
      key: Buffer
      discoveryKey: Buffer
      length: number
      contiguousLength: number
      byteLength: number
      fork: number
      padding: number
      storage: { oplog: number; tree: number; blocks: number; bitfield: number } | null
    }

    interface PeerStats {
      wireData: { tx: number; rx: number }
      wireRequest: { tx: number; rx: number }
      invalidData: number
      invalidRequests: number
    }

    /** The replicator's view of one remote (lib/replicator.js `Peer`). */
    interface Peer {
      remotePublicKey: Buffer
      paused: boolean
      removed: boolean
      stats: PeerStats
      /** The protomux stream this peer replicates over. */
      stream: Duplex
    }

    /** Returned by `replicate`: the outer stream, carrying the Noise stream it wraps. */
    interface ReplicationStream extends Duplex {
      noiseStream: Duplex & { userData: unknown }
    }
  }

  class Hypercore<T = Buffer> extends EventEmitter {
    constructor(storage: string | unknown, key?: Buffer | string | null, opts?: Hypercore.Options)
    constructor(storage: string | unknown, opts?: Hypercore.Options)
    /** A session on an internal core (from Corestore#watch); weak ones do not keep it open. */
    constructor(opts: { core: unknown; weak?: boolean })

    static readonly MAX_SUGGESTED_BLOCK_SIZE: number
    static discoveryKey(key: Buffer): Buffer
    /** The key a core with this manifest has (what corestore derives for a named core). */
    static key(manifest: {
      version?: number
      signers: Array<{ publicKey: Buffer; namespace?: Buffer }>
    }): Buffer

    /** Populated after `ready()`; null before. */
    readonly key: Buffer | null
    readonly discoveryKey: Buffer | null
    /** z-base-32 of the key. */
    readonly id: string | null
    readonly keyPair: Hypercore.KeyPair | null
    readonly length: number
    readonly signedLength: number
    readonly contiguousLength: number
    /** Deprecated upstream in favour of `info()`, still maintained. */
    readonly byteLength: number
    readonly fork: number
    readonly peers: Hypercore.Peer[]
    readonly writable: boolean
    readonly readable: boolean
    readonly opened: boolean
    readonly closed: boolean
    readonly closing: Promise<void> | null

    ready(): Promise<void>
    close(opts?: { error?: Error }): Promise<void>
    session(opts?: Hypercore.SessionOptions): Hypercore<T>
    snapshot(opts?: Hypercore.SessionOptions): Hypercore<T>

    append(
      block: T | Buffer | Array<T | Buffer>,
      opts?: { maxLength?: number; keyPair?: Hypercore.KeyPair },
    ): Promise<{ length: number; byteLength: number }>
    /** Null only when not local and not waiting (`wait: false`). Throws REQUEST_TIMEOUT etc. */
    get(index: number, opts?: Hypercore.GetOptions): Promise<T | null>
    /** Whether every block in [start, end) is local. */
    has(start: number, end?: number): Promise<boolean>
    /** Drops local copies of [start, end); peers are told we no longer have them. */
    clear(
      start: number,
      end?: number,
      opts?: { diff?: boolean },
    ): Promise<{ blocks: number } | null>
    clear(start: number, opts: { diff?: boolean }): Promise<{ blocks: number } | null>
    download(range?: Hypercore.HasRange): Hypercore.Download
    update(opts?: { wait?: boolean; force?: boolean }): Promise<boolean>
    seek(
      bytes: number,
      opts?: { wait?: boolean; timeout?: number },
    ): Promise<[number, number] | null>
    info(opts?: { storage?: boolean }): Promise<Hypercore.Info>
    treeHash(length?: number): Promise<Buffer>
    truncate(newLength?: number, opts?: number | { fork?: number }): Promise<void>
    /** Call the returned function once the current discovery round (e.g. swarm.flush) is done. */
    findingPeers(): () => void
    setActive(active: boolean): void
    setUserData(key: string, value: string | Buffer | null): Promise<void>
    getUserData(key: string): Promise<Buffer | null>
    replicate(
      isInitiatorOrStream: boolean | Duplex,
      opts?: { keepAlive?: boolean },
    ): Hypercore.ReplicationStream

    on(event: 'append' | 'ready' | 'close', listener: () => void): this
    on(event: 'truncate', listener: (ancestors: number, forkId: number) => void): this
    on(event: 'peer-add' | 'peer-remove', listener: (peer: Hypercore.Peer) => void): this
    on(
      event: 'download' | 'upload',
      listener: (index: number, byteLength: number, peer: Hypercore.Peer) => void,
    ): this
    /** A peer sent data that failed Merkle/signature verification; it was not stored. */
    on(
      event: 'verification-error',
      listener: (
        err: Error & { code?: string },
        req: unknown,
        res: unknown,
        from: Hypercore.Peer,
      ) => void,
    ): this
    off(event: string, listener: (...args: never[]) => void): this
  }
  export = Hypercore
}
