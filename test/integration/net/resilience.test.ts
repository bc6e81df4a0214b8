/** Starting with no network, coming online later, and sleeping (suspend/resume). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LOOPBACK } from '../../../core/net/swarm.js'
import { freeLoopbackPort, startLoopbackTestnet } from '../../../core/net/testnet.js'
import { fullMesh, joinAndMesh, loopbackTestnet, testNode } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const PROJECT = Buffer.alloc(32, 1)

describe('resilience', () => {
  it('starts offline without errors, keeps trying, and goes online when the DHT appears', async (t) => {
    const port = await freeLoopbackPort()
    const warnings: unknown[] = []
    const early = testNode(t, [`${LOOPBACK}:${port}`])
    early.on('warning', (err) => warnings.push(err))
    early.joinDiscovery()
    early.joinProject(PROJECT)
    assert.equal(early.state, 'offline')
    assert.equal(early.status().state, 'offline')

    // The DHT comes up on the address the node was given.
    const testnet = await loopbackTestnet(t, port)
    const late = testnet.node()
    late.joinProject(PROJECT)
    await fullMesh([early, late], PROJECT, 20_000)
    assert.equal(early.state, 'online')
    assert.deepEqual(warnings, [])
  })

  it('suspends around sleep and reconnects on resume', async (t) => {
    const testnet = await loopbackTestnet(t)
    const a = testnet.node()
    const b = testnet.node()
    await joinAndMesh([a, b], PROJECT)
    const states: string[] = []
    a.on('state', (s) => states.push(s))

    await a.suspend()
    assert.equal(a.state, 'suspended')
    await waitUntil(() => b.peers().length === 0 && a.peers().length === 0, 'the disconnect')

    await a.resume()
    await fullMesh([a, b], PROJECT)
    assert.equal(a.state, 'online')
    assert.deepEqual(states.slice(0, 1), ['suspended'])
  })

  it('stops within a bound when the DHT has gone', async (t) => {
    const testnet = await startLoopbackTestnet()
    const host = testNode(t, testnet.bootstrap, { roles: ['host'] })
    const peer = testNode(t, testnet.bootstrap)
    host.joinDiscovery()
    await joinAndMesh([host, peer], PROJECT)
    await host.swarm.flush()
    assert.equal(host.state, 'online')
    // Every unannounce now waits out its request timeouts: about 5 s per node before the bound.
    await testnet.destroy()
    // A host or participant stopping leaves its project first: bounded too.
    const leaving = Date.now()
    await peer.leaveProject(PROJECT)
    assert.ok(Date.now() - leaving < 3000, `left in ${Date.now() - leaving} ms`)
    for (const node of [host, peer]) {
      const started = Date.now()
      await node.destroy()
      const took = Date.now() - started
      assert.ok(took < 3000, `stopped in ${took} ms`)
      assert.equal(node.swarm.dht.destroyed, true)
      assert.equal(node.state, 'destroyed')
    }
  })
})
