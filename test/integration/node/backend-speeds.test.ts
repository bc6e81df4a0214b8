/**
 * A contributor node with `auto`: pre-flight and status show the measured speed of every backend
 * and why the chosen one won, the log says it, and the table is kept in the state dir across a
 * restart (a corrupt file is set aside, logged, and measured again). Devices and speeds are
 * injected, so this does not depend on the machine's GPU; the real measurement is tested in
 * test/integration/engine/auto-measure.test.ts.
 */
import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Measurement } from '../../../core/engine/backends/measure-speeds.js'
import type { BackendName, BackendStatus } from '../../../core/engine/backends/probe.js'
import type { ContributorNode } from '../../../core/node/node.js'
import { SPEED_CACHE_FILE } from '../../../core/node/backend-speed-cache.js'
import { tempDir } from '../../support/data.js'
import { startTestNode } from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'

const probe = async (name: BackendName): Promise<BackendStatus> =>
  name === 'webgpu'
    ? {
        name,
        available: true,
        detail: 'software adapter found',
        device: 'llvmpipe',
        driver: 'Mesa 25',
        software: true,
      }
    : name === 'wasm' || name === 'cpu'
      ? { name, available: true, detail: 'ok', device: 'EPYC', driver: '4.22.0' }
      : { name, available: false, detail: 'not installed' }

function measurer() {
  const calls: BackendName[] = []
  const speeds: Partial<Record<BackendName, number>> = { webgpu: 2730, wasm: 19363, cpu: 700 }
  return {
    calls,
    measure: async (name: BackendName): Promise<Measurement> => {
      calls.push(name)
      const v = speeds[name] ?? null
      return { samplesPerSec: v, msPerStep: v && 256_000 / v, steps: 5, detail: 'measured' }
    },
  }
}

function logLines(node: ContributorNode): string[] {
  const lines: string[] = []
  node.log.on('entry', (e) => lines.push(`${e.level} ${e.msg}`))
  return lines
}

describe('contributor node: backend chosen by measured speed', () => {
  it('pre-flight, status and the log show the measured table; a restart reads it back', async (t) => {
    const net = await loopbackTestnet(t)
    const home = await tempDir(t, 'tandem-speeds-')
    const first = measurer()
    const node = await startTestNode(t, net, {
      home,
      engine: { backend: 'auto', maxThreads: 1, probe, measurer: first.measure },
    })
    const log = logLines(node)
    const pre = await node.preflight()
    assert.equal(pre.backend.chosen, 'wasm')
    assert.equal(pre.backend.measured?.chosen, 'wasm')
    assert.match(
      pre.backend.measured?.why ?? '',
      /webgpu is a software adapter and measured slower/,
    )
    assert.equal(
      pre.backend.skipped.find((s) => s.name === 'webgpu')?.reason,
      'measured slower: 2,730 samples/s (software adapter)',
    )
    assert.equal(node.status().backend?.measured?.chosen, 'wasm')
    assert.ok(
      log.some((l) =>
        /^info measured backends: wasm 19,363 samples\/s, webgpu \(software adapter\) 2,730/.test(
          l,
        ),
      ),
      log.join('\n'),
    )
    assert.deepEqual(first.calls, ['webgpu', 'wasm', 'cpu'])
    assert.ok((await readdir(join(home, 'data'))).includes(SPEED_CACHE_FILE))
    await node.close()

    const second = measurer()
    const again = await startTestNode(t, net, {
      home,
      engine: { backend: 'auto', maxThreads: 1, probe, measurer: second.measure },
    })
    const cached = await again.preflight()
    assert.equal(cached.backend.measured?.cached, true)
    assert.equal(cached.backend.chosen, 'wasm')
    assert.deepEqual(second.calls, [], 'a restart must not measure again')
    await again.close()

    await writeFile(join(home, 'data', SPEED_CACHE_FILE), '{"version":1,"tables":[{"oops":1}]}')
    const third = measurer()
    const recovered = await startTestNode(t, net, {
      home,
      engine: { backend: 'auto', maxThreads: 1, probe, measurer: third.measure },
    })
    const log3 = logLines(recovered)
    const fresh = await recovered.preflight()
    assert.equal(fresh.backend.measured?.cached, false)
    assert.equal(third.calls.length, 3)
    assert.ok(
      log3.some((l) => /^warn .*backend-speeds\.json is corrupt.*measured again/.test(l)),
      log3.join('\n'),
    )
  })

  it('a forced backend is not measured', async (t) => {
    const net = await loopbackTestnet(t)
    const m = measurer()
    const node = await startTestNode(t, net, {
      engine: { backend: 'wasm', maxThreads: 1, probe, measurer: m.measure },
    })
    const pre = await node.preflight()
    assert.equal(pre.backend.chosen, 'wasm')
    assert.equal(pre.backend.measured, undefined)
    assert.deepEqual(m.calls, [])
  })
})
