/**
 * The quick convergence experiment (real tfjs training, in process): DiLoCo with 4 workers beats a
 * single worker at equal (modelled) wall time, and every run's validation loss falls. Directions
 * only; the absolute numbers belong to `npm run eval`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { run } from '../../eval/experiments/convergence.js'
import { tempDir } from '../../support/data.js'
import { SHARED_DATA } from '../../support/data.js'
import { existsSync } from 'node:fs'

describe('eval: convergence (quick)', () => {
  it('DiLoCo beats one worker at equal wall time, and every loss curve falls', async (t) => {
    const result = await run({
      quick: true,
      outDir: await tempDir(t, 'tandem-eval-conv-'),
      dataDir: existsSync(SHARED_DATA) ? SHARED_DATA : undefined,
      log: (line) => t.diagnostic(line),
      seed: 1,
    })
    for (const row of result.table.rows) t.diagnostic(JSON.stringify(row))
    const runs = result.details['runs'] as { label: string; points: { loss: number }[] }[]
    for (const r of runs) {
      const first = r.points[0]!.loss
      const last = r.points.at(-1)!.loss
      assert.ok(last < first * 0.8, `${r.label}: ${first} → ${last}`)
    }
    const wall = result.targets.find((x) => x.name.includes('equal wall time'))
    assert.ok(wall, 'no equal-wall-time target')
    assert.ok(wall.met, `DiLoCo against one worker at equal wall time: ${wall.measured}`)
  })
})
