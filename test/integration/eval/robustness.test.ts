/**
 * The quick robustness experiment (test/eval/experiments/robustness.ts: real TF.js training, every
 * round closed by the host's computeRound, 2 of 8 contributors attacking), asserting directions:
 * the default rule beats the undefended mean under each attack and is no worse than the screened
 * mean; rejected updates earn nothing; free-riders and copiers earn < 5 % of an honest contributor;
 * no honest update is rejected in clean runs, including one trained to convergence, where the
 * legacy relative harmful test (scoring v1) rejects many (the bug scoring v2 fixes).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import type { ExperimentResult } from '../../eval/types.js'
import { run, type ConvergedSummary, type RunSummary } from '../../eval/experiments/robustness.js'

describe('eval: robustness (quick)', () => {
  let result: ExperimentResult
  let runs: RunSummary[]
  let converged: ConvergedSummary[]
  const find = (attack: string, rule: string) => {
    const r = runs.find((x) => x.attack === attack && x.rule === rule)
    assert.ok(r, `${attack} / ${rule} ran`)
    return r
  }

  before(async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'tandem-robustness-'))
    try {
      result = await run({ quick: true, outDir, dataDir: undefined, log: () => {}, seed: 1 })
    } finally {
      await rm(outDir, { recursive: true, force: true })
    }
    runs = result.details.runs as RunSummary[]
    converged = result.details.converged as ConvergedSummary[]
  })

  it('the default rule beats the undefended mean under each attack, and is no worse than the screened mean', (t) => {
    for (const attack of ['sign-flip', 'noise', 'label-flip']) {
      const def = find(attack, 'centered-clip')
      t.diagnostic(
        `${attack}: centered-clip ${def.finalLoss.toFixed(4)}, mean ${find(attack, 'mean').finalLoss.toFixed(4)}, undefended ${find(attack, 'undefended').finalLoss.toFixed(4)}`,
      )
      assert.ok(def.finalLoss < find(attack, 'undefended').finalLoss, attack)
      assert.ok(def.finalLoss <= find(attack, 'mean').finalLoss * 1.01, attack)
    }
    // Sign flips are screened out every time; noise just under the norm screen is mostly within
    // the validation batch's noise, but earns (almost) nothing (v2 quality: cosine ≈ 0).
    assert.equal(find('sign-flip', 'centered-clip').attackersAccepted, 0)
    assert.ok(find('noise', 'centered-clip').attackerCreditShare < 0.05)
  })

  it('pays nothing for rejected updates, and free-riders and copiers < 5 % of an honest contributor', () => {
    for (const r of runs) assert.equal(r.creditsToRejected, 0, `${r.attack} / ${r.rule}`)
    for (const attack of ['zeros', 'copy', 'perturbed-copy']) {
      const r = find(attack, 'centered-clip')
      assert.ok(r.attackerCreditShare < 0.05, `${attack}: ${r.attackerCreditShare}`)
    }
  })

  it('rejects no honest update in clean runs, trained to convergence included; the v1 rule did', (t) => {
    for (const r of runs.filter((x) => x.attack !== 'none' || x.rule !== 'undefended'))
      assert.equal(r.honestRejected, 0, `${r.attack} / ${r.rule}`)
    const v1 = converged.find((c) => c.scoring === 'v1' && c.attack === 'none')!
    const v2 = converged.find((c) => c.scoring === 'v2' && c.attack === 'none')!
    const v3 = converged.find((c) => c.scoring === 'v3' && c.attack === 'none')!
    t.diagnostic(JSON.stringify({ v1, v2 }))
    assert.ok(v2.finalValidationLoss < 0.01, `converged: ${v2.finalValidationLoss}`)
    for (const c of [v2, v3]) {
      assert.equal(c.honestRejected, 0, c.scoring)
      assert.equal(c.emptyRounds, 0, c.scoring)
    }
    assert.ok(v1.honestRejected > 0, 'the legacy relative test rejects honest work at a tiny loss')
    // At convergence attacks may pass the harmful test (their effect is within the noise too),
    // but they earn ~nothing and the model stays converged.
    for (const c of converged.filter((x) => x.attack !== 'none')) {
      assert.equal(c.honestRejected, 0, c.attack)
      assert.ok(c.attackerCreditShare < 0.05, `${c.attack}: ${c.attackerCreditShare}`)
      assert.ok(c.finalValidationLoss < 0.01, `${c.attack}: ${c.finalValidationLoss}`)
    }
  })
})
