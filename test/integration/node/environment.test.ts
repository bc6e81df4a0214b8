/**
 * The preferences that depend on what the shell reports or on the machine, on a running node
 * (ContributorNode with shell 'electron', as the desktop app runs it), each applied without a
 * restart: run only when idle, use the GPU, and the per-project disk cap.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { startTestNode } from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'

describe('contributor node: shell-reported and machine preferences', () => {
  it('run only when idle follows the idle time the shell reports, and idleMinutes live', async (t) => {
    const net = await loopbackTestnet(t)
    const node = await startTestNode(t, net, { shell: 'electron' })
    await node.settings.update({ runWhenIdleOnly: true, idleMinutes: 3 })
    assert.equal(node.status().activity, 'waiting')
    assert.match(node.status().reason, /idle time report/)
    node.setEnvironment({ idleSec: 30 })
    assert.match(node.status().reason, /computer in use \(idle 30 s of 3 min\)/)
    node.setEnvironment({ idleSec: 200 })
    assert.notEqual(node.status().activity, 'waiting', node.status().reason)
    await node.settings.update({ idleMinutes: 5 }) // 200 s is no longer enough
    assert.match(node.status().reason, /computer in use/)
    await node.settings.update({ runWhenIdleOnly: false })
    assert.doesNotMatch(node.status().reason, /computer in use|idle time/)
  })

  it('"use the GPU" off keeps training off GPU backends, and on again lets auto choose', async (t) => {
    const net = await loopbackTestnet(t)
    const node = await startTestNode(t, net, { engine: {} })
    await node.settings.update({ useGpu: false })
    const off = await node.backendReport()
    assert.equal(off.chosen, 'wasm')
    const gpu = off.skipped.filter((s) => s.name === 'tfjs-node-gpu' || s.name === 'webgpu')
    assert.equal(gpu.length, 2)
    assert.ok(
      gpu.every((s) => /"Use the GPU" is off/.test(s.reason)),
      JSON.stringify(gpu),
    )
    await node.settings.update({ useGpu: true })
    // Auto probes the GPU backends again. Whatever adapter this machine has, this part runs as on
    // one without (the adapter hidden), where webgpu is skipped with the probe's own reason.
    const hidden = process.env['TANDEM_HIDE_WEBGPU']
    process.env['TANDEM_HIDE_WEBGPU'] = '1'
    try {
      const on = await node.backendReport()
      const webgpu = on.skipped.find((s) => s.name === 'webgpu')
      assert.match(webgpu?.reason ?? '', /no WebGPU adapter/, JSON.stringify(on))
    } finally {
      if (hidden === undefined) delete process.env['TANDEM_HIDE_WEBGPU']
      else process.env['TANDEM_HIDE_WEBGPU'] = hidden
    }
  })

  it('the disk cap per project reaches each joined project at its next round', async (t) => {
    const net = await loopbackTestnet(t)
    const node = await startTestNode(t, net)
    const key = randomBytes(32).toString('hex') // a project nobody hosts: joined, never trains
    await node.join(key)
    // The participant reads its budget through this callback at every round (participant.ts).
    const budget = () =>
      (
        node.participant(key) as unknown as { opts: { diskCapBytes: () => number } }
      ).opts.diskCapBytes()
    assert.equal(budget(), node.settings.get().diskCapMiB * 2 ** 20)
    await node.settings.update({ diskCapMiB: 256 })
    assert.equal(budget(), 256 * 2 ** 20)
  })
})
