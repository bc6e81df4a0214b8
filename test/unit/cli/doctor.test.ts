/**
 * `tandem doctor`: the measured backend table without a running node (real measurement in worker
 * threads, pinned to wasm and cpu with --backends so the machine's GPU adapter does not matter),
 * its cache in the state dir, --json, bad arguments; and the same table under `tandem status`.
 */
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { SpeedTable } from '../../../core/api/contract.js'
import { formatStatus } from '../../../core/cli/commands/client-format.js'
import { formatSpeedTable } from '../../../core/cli/commands/speed-table.js'
import { runTandem } from '../../support/cli-io.js'

const table: SpeedTable = {
  workload: 'mlp 784-256-10 (203,530 params), batch 256, 1 CPU worker',
  key: 'ab'.repeat(32),
  measuredAt: Date.UTC(2026, 11, 2, 12, 0, 0),
  cached: true,
  chosen: 'wasm',
  why: 'wasm measured fastest: 19,363 samples/s, 7.1× webgpu (software adapter)',
  speeds: [
    {
      name: 'wasm',
      device: 'EPYC (2 threads)',
      software: false,
      samplesPerSec: 19363.2,
      msPerStep: 13.2,
      steps: 20,
      detail: 'measured',
    },
    {
      name: 'webgpu',
      device: 'mesa llvmpipe',
      software: true,
      samplesPerSec: 2730,
      msPerStep: 93.8,
      steps: 5,
      detail: 'measured',
    },
    {
      name: 'tfjs-node',
      device: 'tfjs-node',
      software: false,
      samplesPerSec: null,
      msPerStep: null,
      steps: 0,
      detail: 'not installed',
    },
  ],
}

describe('tandem doctor', () => {
  it('formats the table: speeds, software adapters, the winner and why', () => {
    assert.equal(
      formatSpeedTable(table),
      [
        'measured on mlp 784-256-10 (203,530 params), batch 256, 1 CPU worker (cached, measured 2026-12-02T12:00:00.000Z):',
        'backend      samples/s  ms/step  device / detail',
        '* wasm          19,363     13.2  EPYC (2 threads)',
        '  webgpu         2,730     93.8  [software adapter] mesa llvmpipe',
        '  tfjs-node          —        —  not installed',
        'chosen: wasm (wasm measured fastest: 19,363 samples/s, 7.1× webgpu (software adapter))',
        '',
      ].join('\n'),
    )
  })

  it('status shows the measured table under the backend line', () => {
    const text = formatStatus({
      activity: 'idle',
      reason: 'no project joined',
      userPaused: false,
      pauseAfterRound: false,
      key: 'ab'.repeat(32),
      displayId: 'yb1nfw8e',
      peers: 0,
      backend: { chosen: 'wasm', device: 'EPYC (2 threads)', skipped: [], measured: table },
      progress: null,
      startedAt: 0,
    })
    assert.match(text, /peers 0, backend wasm on EPYC \(2 threads\)\n {2}measured on mlp/)
    assert.match(text, /\n {2}\* wasm +19,363/)
    assert.match(text, /\n {2}chosen: wasm \(wasm measured fastest/)
  })

  it('measures here, caches in the state dir, and prints JSON or the table', async () => {
    const home = await mkdtemp(join(tmpdir(), 'tandem-doctor-'))
    const args = [
      'doctor',
      '--home',
      home,
      '--backends',
      'wasm,cpu',
      '--threads',
      '1',
      '--batch',
      '64',
    ]
    const first = await runTandem([...args, '--json'])
    assert.equal(first.code, 0, first.err)
    const measured = JSON.parse(first.out) as SpeedTable
    assert.equal(measured.cached, false)
    const [a, b] = measured.speeds
    assert.ok(a?.samplesPerSec && b?.samplesPerSec, first.out)
    assert.deepEqual([a.name, b.name].sort(), ['cpu', 'wasm'])
    assert.ok(a.samplesPerSec >= b.samplesPerSec)
    assert.equal(measured.chosen, a.name, 'the choice is the fastest measured')
    assert.equal(
      measured.speeds.find((s) => s.name === 'webgpu')?.detail,
      'not measured (--backends)',
    )

    const again = await runTandem(args)
    assert.equal(again.code, 0, again.err)
    assert.match(
      again.out,
      /^measured on mlp 784-256-10 \(203,530 params\), batch 64, 1 CPU worker \(cached, measured /,
    )
    assert.match(again.out, new RegExp(`\\n\\* ${measured.chosen} `))
    assert.match(again.out, /\nchosen: (wasm|cpu) \((wasm|cpu) measured fastest/)

    const fresh = await runTandem([...args, '--json', '--fresh'])
    assert.equal((JSON.parse(fresh.out) as SpeedTable).cached, false)
  })

  it('measures a model from a spec file', async () => {
    const home = await mkdtemp(join(tmpdir(), 'tandem-doctor-'))
    const spec = join(home, 'spec.json')
    await writeFile(spec, JSON.stringify({ type: 'mlp', inputSize: 8, hidden: [4], classes: 2 }))
    const res = await runTandem([
      'doctor',
      '--home',
      home,
      '--backends',
      'cpu',
      '--spec',
      spec,
      '--json',
    ])
    assert.equal(res.code, 0, res.err)
    const t = JSON.parse(res.out) as SpeedTable
    assert.match(t.workload, /^mlp 8-4-2 /)
    assert.equal(t.chosen, 'cpu')
  })

  it('refuses bad arguments with a coded error', async () => {
    for (const bad of [
      ['--backends', 'cuda'],
      ['--batch', '0'],
      ['--threads', 'many'],
    ]) {
      const res = await runTandem(['doctor', ...bad])
      assert.equal(res.code, 2, bad.join(' '))
      assert.match(res.err, /\[BAD_ARGUMENT\]/)
    }
  })
})
