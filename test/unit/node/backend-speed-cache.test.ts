/**
 * The measured-speed cache file in the node's state dir (core/node/backend-speed-cache.ts), and the
 * backend report built from a measured table (core/node/backend-report.ts).
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Measurement } from '../../../core/engine/backends/measure-speeds.js'
import type { BackendName, BackendStatus } from '../../../core/engine/backends/probe.js'
import { tableFrom, type SpeedTable } from '../../../core/engine/backends/speed.js'
import { TrainingEngine } from '../../../core/engine/engine.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { describeSelection, measuredReport } from '../../../core/node/backend-report.js'
import {
  FileSpeedCache,
  MAX_TABLES,
  SPEED_CACHE_FILE,
} from '../../../core/node/backend-speed-cache.js'

const mlp = parseSpec({ type: 'mlp', inputSize: 16, hidden: [8], classes: 3 })
const probe = async (name: BackendName): Promise<BackendStatus> =>
  name === 'wasm' || name === 'cpu'
    ? { name, available: true, detail: 'ok', device: 'CPU', driver: '4.22.0' }
    : name === 'webgpu'
      ? {
          name,
          available: true,
          detail: 'software adapter found',
          device: 'llvmpipe',
          driver: 'Mesa 25',
          software: true,
        }
      : { name, available: false, detail: 'not installed' }

function counting(speeds: Partial<Record<BackendName, number>>) {
  let calls = 0
  return {
    get calls() {
      return calls
    },
    measure: async (name: BackendName): Promise<Measurement> => {
      calls++
      const v = speeds[name] ?? null
      return { samplesPerSec: v, msPerStep: v && 1000 / v, steps: 3, detail: 'measured' }
    },
  }
}

const tmp = () => mkdtemp(join(tmpdir(), 'tandem-speeds-'))

function table(key: string, chosen: BackendName = 'wasm'): SpeedTable {
  return tableFrom(
    [
      {
        name: chosen,
        device: 'CPU',
        software: false,
        samplesPerSec: 100,
        msPerStep: 10,
        steps: 3,
        detail: 'measured',
      },
    ],
    { workload: 'w', key, measuredAt: 1, cached: false },
  )
}

describe('measured-speed cache file', () => {
  it('a restarted node reads the table instead of measuring again', async () => {
    const dir = await tmp()
    const m = counting({ wasm: 19_000, cpu: 700, webgpu: 2_700 })
    const first = await new TrainingEngine({
      probe,
      measurer: m.measure,
      speedCache: new FileSpeedCache(dir),
    }).measure(mlp, 32)
    assert.equal(m.calls, 3)
    const stored = JSON.parse(await readFile(join(dir, SPEED_CACHE_FILE), 'utf8')) as {
      tables: SpeedTable[]
    }
    assert.equal(stored.tables[0]?.key, first.key)
    const again = await new TrainingEngine({
      probe,
      measurer: m.measure,
      speedCache: new FileSpeedCache(dir),
    }).measure(mlp, 32)
    assert.equal(m.calls, 3)
    assert.equal(again.cached, true)
    assert.equal(again.chosen, 'wasm')
  })

  it('a corrupt file is set aside and the speeds are measured again', async () => {
    for (const garbage of [
      '{"version":1,"tables":[{"key":"zz"}]}', // fails the schema
      '{not json',
      JSON.stringify({ version: 1, tables: [{ ...table('a'.repeat(64)), chosen: 'cuda9000' }] }),
    ]) {
      const dir = await tmp()
      await writeFile(join(dir, SPEED_CACHE_FILE), garbage)
      const cache = new FileSpeedCache(dir)
      const m = counting({ wasm: 19_000, cpu: 700 })
      const t = await new TrainingEngine({ probe, measurer: m.measure, speedCache: cache }).measure(
        mlp,
        32,
      )
      assert.equal(t.cached, false, garbage)
      assert.equal(m.calls, 3)
      assert.match(cache.recovered ?? '', /corrupt.*measured again/)
      const files = await readdir(dir)
      assert.ok(
        files.some((f) => f.startsWith(`${SPEED_CACHE_FILE}.corrupt-`)),
        files.join(),
      )
      // The new table was written over it, valid.
      assert.equal((await new FileSpeedCache(dir).get(t.key))?.chosen, 'wasm')
    }
  })

  it('keeps the most recent tables only, newest first', async () => {
    const dir = await tmp()
    const cache = new FileSpeedCache(dir)
    for (let i = 0; i < MAX_TABLES + 3; i++)
      await cache.put(table(i.toString(16).padStart(64, '0')))
    const reread = new FileSpeedCache(dir)
    assert.equal((await reread.latest())?.key, (MAX_TABLES + 2).toString(16).padStart(64, '0'))
    assert.equal(await reread.get('0'.repeat(64)), null, 'the oldest was dropped')
    const stored = JSON.parse(await readFile(join(dir, SPEED_CACHE_FILE), 'utf8')) as {
      tables: unknown[]
    }
    assert.equal(stored.tables.length, MAX_TABLES)
  })
})

describe('backend report of a measured choice', () => {
  it('lists every other backend with its measured speed or why it has none', async () => {
    const m = counting({ wasm: 19_363, cpu: 700, webgpu: 2_730 })
    const t = await new TrainingEngine({ probe, measurer: m.measure }).measure(mlp, 32)
    const report = measuredReport(t)
    assert.equal(report.chosen, 'wasm')
    assert.equal(report.device, 'CPU')
    assert.deepEqual(Object.fromEntries(report.skipped.map((s) => [s.name, s.reason])), {
      webgpu: 'measured slower: 2,730 samples/s (software adapter)',
      cpu: 'measured slower: 700 samples/s',
      'tfjs-node-gpu': 'not installed',
      'tfjs-node': 'not installed',
    })
    assert.equal(report.measured?.why, t.why)
    const line = describeSelection({
      chosen: 'wasm',
      device: 'CPU',
      skipped: [],
      forced: false,
      measured: t,
    })
    assert.match(line, /^training on wasm \(CPU\): wasm measured fastest: 19,363 samples\/s/)
    assert.match(line, /webgpu \(software adapter\) 2,730 samples\/s/)
  })
})
