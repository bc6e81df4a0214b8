/**
 * The per-round loss spike is gone (issue 16): the quick loss-spike experiment (byte-level
 * transformer, 2 contributors, 4 rounds of H = 30, real training through the host's computeRound)
 * without and with the default re-warmup. With it, no round's first 5 inner steps exceed the
 * previous round's last 5 by more than SPIKE_FACTOR; without it they do (the spike this fixes).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { REWARMUP_DEFAULT } from '../../../core/ledger/manifest.js'
import { run, SPIKE_FACTOR } from '../../eval/experiments/loss-spike.js'

describe('eval: per-round loss spike (quick)', () => {
  it(`keeps each round's first steps within ${SPIKE_FACTOR}× of the previous round's end with the default re-warmup`, async (t) => {
    const outDir = await mkdtemp(join(tmpdir(), 'tandem-loss-spike-'))
    t.after(() => rm(outDir, { recursive: true, force: true }))
    const result = await run({ quick: true, outDir, dataDir: undefined, log: () => {}, seed: 1 })
    const rows = result.details.results as { rewarmup: number; spikes: number[]; final: number }[]
    const worst = (rw: number) => Math.max(...rows.find((r) => r.rewarmup === rw)!.spikes)
    t.diagnostic(JSON.stringify(rows))
    assert.ok(worst(REWARMUP_DEFAULT) <= SPIKE_FACTOR, `with re-warmup: ${worst(REWARMUP_DEFAULT)}`)
    assert.ok(worst(0) > SPIKE_FACTOR, `without re-warmup the spike shows: ${worst(0)}`)
    assert.equal(result.targets[0]!.met, true)
    assert.equal(result.plots[0]!.series.length, 2)
    assert.ok(
      result.plots[0]!.series.every((s) => s.x.length === 4 * 30 && s.y.every(Number.isFinite)),
    )
  })
})
