/**
 * A private HyperDHT on 127.0.0.1: the network of tests, benchmarks and the demo. Every socket binds
 * to loopback; a DHT bound to 0.0.0.0 would advertise and dial this machine's LAN address, which
 * half-opens and hangs where only loopback is reachable (and must never be used by tests anyway).
 * A test, benchmark and demo helper: the node itself only needs ./swarm.ts.
 */
import createTestnet from 'hyperdht/testnet.js'
import { createSocket } from 'node:dgram'
import { LOOPBACK } from './swarm.js'

export interface LoopbackTestnet {
  /** host:port strings, as accepted by `--bootstrap`. */
  bootstrap: string[]
  destroy(): Promise<void>
}

export async function startLoopbackTestnet(size = 3, port = 0): Promise<LoopbackTestnet> {
  const testnet = await createTestnet(size, { host: LOOPBACK, port })
  return {
    bootstrap: testnet.bootstrap.map((a) => `${a.host}:${a.port}`),
    destroy: () => testnet.destroy(),
  }
}

/**
 * A UDP port on 127.0.0.1 that was free a moment ago: lets a test start a node against a DHT that
 * is not there yet, then start the DHT on that very port.
 */
export async function freeLoopbackPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, LOOPBACK, () => resolve())
  })
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}
