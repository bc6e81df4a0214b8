/**
 * Swarm fixtures: a loopback testnet and Tandem nodes on it, each destroyed when the test ends.
 * Everything binds to 127.0.0.1 (see ENVIRONMENT.md): tests never touch the public DHT.
 */
import type { TestContext } from 'node:test'
import crypto from 'hypercore-crypto'
import { SwarmNode, type SwarmNodeOptions } from '../../core/net/swarm-node.js'
import { startLoopbackTestnet, type LoopbackTestnet } from '../../core/net/testnet.js'
import { waitUntil } from './wait.js'

export interface TestNetwork extends LoopbackTestnet {
  /** A node on this testnet, destroyed before the testnet itself. */
  node(opts?: Partial<SwarmNodeOptions>): SwarmNode
}

export async function loopbackTestnet(t: TestContext, port = 0): Promise<TestNetwork> {
  const testnet = await startLoopbackTestnet(3, port)
  const nodes: SwarmNode[] = []
  // Nodes first: a node destroyed after its DHT waits out the unannounce timeouts.
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.destroy()))
    await testnet.destroy()
  })
  return {
    ...testnet,
    node(opts = {}) {
      const node = makeNode(t, testnet.bootstrap, opts)
      nodes.push(node)
      return node
    },
  }
}

/** Fast re-lookups so simultaneous joins meet within a second or two. */
export const TEST_REFRESH = { minMs: 100, emptyMaxMs: 1000, maxMs: 2000 }

/** A node on any bootstrap (e.g. one that is not there yet), destroyed when the test ends. */
export function testNode(
  t: TestContext,
  bootstrap: string[],
  opts: Partial<SwarmNodeOptions> = {},
): SwarmNode {
  const node = makeNode(t, bootstrap, opts)
  t.after(() => node.destroy())
  return node
}

function makeNode(t: TestContext, bootstrap: string[], opts: Partial<SwarmNodeOptions>) {
  const node = new SwarmNode({
    keyPair: crypto.keyPair(),
    bootstrap,
    refresh: TEST_REFRESH,
    ...opts,
  })
  // Local handler bugs show up in the test output instead of vanishing.
  node.on('warning', (err) => t.diagnostic(`node warning: ${String(err)}`))
  return node
}

/** Joins every node to `project` and waits until they all see each other there. */
export async function joinAndMesh(nodes: SwarmNode[], project: Uint8Array): Promise<void> {
  for (const n of nodes) n.joinProject(project)
  await fullMesh(nodes, project)
}

/** Waits until every node has every other as a ready peer (for `project` if given). */
export async function fullMesh(nodes: SwarmNode[], project?: Uint8Array, timeoutMs = 15_000) {
  const want = nodes.length - 1
  await waitUntil(
    () => nodes.every((n) => (project ? n.projectPeers(project) : n.peers()).length >= want),
    `a full mesh of ${nodes.length} nodes`,
    timeoutMs,
  )
}
