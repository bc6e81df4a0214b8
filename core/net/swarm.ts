/**
 * The Hyperswarm a node runs on: the public DHT, or a private one given by bootstrap addresses
 * (bound to loopback when every address is on loopback). Shared by the swarm node and the loopback
 * testnet helpers (./testnet.ts), which is why it lives apart from both.
 */
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { TandemError } from '../api/errors.js'

export const LOOPBACK = '127.0.0.1'

export function parseBootstrap(list: string[]): HyperDHT.Address[] {
  return list.map((entry) => {
    const match = /^([^:\s]+):(\d{1,5})$/.exec(entry.trim())
    const port = match ? Number(match[2]) : NaN
    if (!match || !match[1] || port < 1 || port > 65535) {
      throw new TandemError('BAD_ARGUMENT', `Bad bootstrap address "${entry}" (want host:port)`)
    }
    return { host: match[1], port }
  })
}

export interface SwarmOptions {
  keyPair?: Hyperswarm.KeyPair
  maxPeers?: number
  firewall?: (remotePublicKey: Buffer) => boolean
}

/**
 * A swarm on a private DHT given by `bootstrap`, bound to loopback when that DHT is on loopback.
 * Without `bootstrap` it joins the public DHT.
 */
export function createSwarm(bootstrap?: string[], opts: SwarmOptions = {}): Hyperswarm {
  const { keyPair, maxPeers, firewall } = opts
  const swarmOpts = {
    ...(keyPair ? { keyPair } : {}),
    ...(maxPeers ? { maxPeers } : {}),
    ...(firewall ? { firewall } : {}),
  }
  if (!bootstrap) return new Hyperswarm(swarmOpts)
  const nodes = parseBootstrap(bootstrap)
  const loopbackOnly = nodes.every((n) => n.host === LOOPBACK || n.host === 'localhost')
  // On loopback every node reaches every other node's socket directly: there is no NAT, so the
  // node says so (`firewalled: false`). Left to itself, dht-rpc's firewall probe fails on loopback
  // and the node stays "firewalled"; then every connection goes through hyperdht's holepunch, whose
  // NAT analysis on the server is not stable in a fresh process and aborts, while the client's LAN
  // shortcut has already opened its end. That half-open connection only ends at the ~13 s UDX
  // timeout before Hyperswarm dials again (docs/wire.md, "Networks").
  const dht = new HyperDHT({
    bootstrap: nodes,
    ...(loopbackOnly ? { host: LOOPBACK, firewalled: false } : {}),
  })
  return new Hyperswarm({ dht, ...swarmOpts })
}
