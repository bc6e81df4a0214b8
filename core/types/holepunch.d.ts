/**
 * Type declarations for the Holepunch modules, which ship plain JavaScript. Only what Tandem uses is
 * declared; widen these as more of the API is used, keeping the modules' own signatures.
 */
declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'

  namespace HyperDHT {
    interface Address {
      host: string
      port: number
    }
    interface DHTOptions {
      bootstrap?: Array<string | Address>
      host?: string
      port?: number
      ephemeral?: boolean
      firewalled?: boolean
    }
  }
  class HyperDHT extends EventEmitter {
    constructor(opts?: HyperDHT.DHTOptions)
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    address(): HyperDHT.Address
    destroy(opts?: { force?: boolean }): Promise<void>
    readonly destroyed: boolean
    /** False after the socket saw the network go away; back to true when it returns. */
    readonly online: boolean
    readonly bootstrapped: boolean
    /** The routing table: empty until a bootstrap node answered. */
    readonly table: { readonly size: number }
  }
  export = HyperDHT
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'

  interface Testnet {
    nodes: HyperDHT[]
    bootstrap: HyperDHT.Address[]
    createNode(opts?: HyperDHT.DHTOptions): HyperDHT
    destroy(): Promise<void>
  }
  function createTestnet(
    size?: number,
    opts?: { host?: string; port?: number; bootstrap?: HyperDHT.Address[] },
  ): Promise<Testnet>
  export = createTestnet
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'
  import type HyperDHT from 'hyperdht'

  namespace Hyperswarm {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer
    }
    interface SwarmOptions {
      dht?: HyperDHT
      bootstrap?: Array<string | HyperDHT.Address>
      keyPair?: KeyPair
      maxPeers?: number
      firewall?: (remotePublicKey: Buffer) => boolean
    }
    interface PeerInfo {
      publicKey: Buffer
      topics: Buffer[]
      prioritized: boolean
      readonly banned: boolean
      ban(banned?: boolean): void
    }
    /** A NoiseSecretStream: an encrypted Duplex with the remote's static key. */
    interface Connection extends Duplex {
      remotePublicKey: Buffer
      publicKey: Buffer
      isInitiator: boolean
      sendKeepAlive(): void
      rawStream: { remoteHost: string; remotePort: number }
    }
    interface Discovery {
      flushed(): Promise<void>
      /** Announce and look up again now (the swarm on its own does so every ~10 minutes). */
      refresh(opts?: { server?: boolean; client?: boolean }): Promise<void>
      destroy(): Promise<void>
    }
  }
  class Hyperswarm extends EventEmitter {
    constructor(opts?: Hyperswarm.SwarmOptions)
    readonly keyPair: Hyperswarm.KeyPair
    readonly dht: HyperDHT
    readonly connections: Set<Hyperswarm.Connection>
    readonly peers: Map<string, Hyperswarm.PeerInfo>
    readonly connecting: number
    readonly suspended: boolean
    join(
      topic: Buffer | Uint8Array,
      opts?: { server?: boolean; client?: boolean },
    ): Hyperswarm.Discovery
    leave(topic: Buffer | Uint8Array): Promise<void>
    /** The discovery of a joined topic, or null. */
    status(topic: Buffer | Uint8Array): Hyperswarm.Discovery | null
    /** Keep a connection to this peer, whatever the topics. */
    joinPeer(publicKey: Buffer | Uint8Array): void
    leavePeer(publicKey: Buffer | Uint8Array): void
    flush(): Promise<void>
    /** Leaves every topic. */
    clear(): Promise<unknown>
    listen(): Promise<void>
    suspend(): Promise<void>
    resume(): Promise<void>
    destroy(opts?: { force?: boolean }): Promise<void>
    on(
      event: 'connection',
      listener: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo) => void,
    ): this
    on(event: 'update', listener: () => void): this
  }
  export = Hyperswarm
}
