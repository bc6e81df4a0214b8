/**
 * `npm run eval` end to end on its quick traffic experiment: a real host and contributors on a
 * loopback testnet, and the runner's files: the experiment's JSON (result, timing, commit,
 * machine), one SVG per plot drawn by Vega-Lite, the markdown summary, and the same rebuilt from
 * the JSON alone. The traffic numbers must point the right way: a contributor moves fewer bytes
 * than a synchronous fp32 all-reduce of the same steps would.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runEval } from '../../eval/run.js'
import type { ExperimentResult } from '../../eval/types.js'
import { tempDir } from '../../support/data.js'

const experimentsDir = join(process.cwd(), 'test', 'eval', 'experiments')

describe('npm run eval', () => {
  it('runs the quick traffic experiment and writes JSON, SVG plots and a markdown summary', async (t) => {
    const out = await tempDir(t, 'tandem-eval-')
    const lines: string[] = []
    const outcomes = await runEval({
      quick: true,
      only: ['traffic'],
      out,
      dataDir: undefined,
      seed: 1,
      experimentsDir,
      log: (line) => lines.push(line),
    })
    assert.equal(outcomes.length, 1)
    assert.equal(outcomes[0]!.error, undefined, lines.join('\n'))

    const json = JSON.parse(
      await readFile(join(out, 'traffic', 'traffic.json'), 'utf8'),
    ) as ExperimentResult & { commit: string; machine: { cpus: number }; seconds: number }
    assert.equal(json.name, 'traffic')
    assert.match(json.commit, /^([0-9a-f]{40}|unknown)$/)
    assert.ok(json.machine.cpus >= 1)
    assert.ok(json.seconds > 0)
    assert.ok(json.plots.length >= 1)
    for (const plot of json.plots) {
      const svg = await readFile(join(out, 'traffic', `${plot.file}.svg`), 'utf8')
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
      // The axis titles made it into the drawing, not just an empty frame.
      assert.ok(svg.includes(plot.yLabel), `${plot.file}.svg has no y axis title`)
    }

    // Bytes counted by the nodes: every round moved something, and less than all-reduce would.
    const totals = json.details['totals'] as {
      sent: number
      received: number
      sync: number
      ratio: number
    }
    assert.ok(totals.sent > 0 && totals.received > 0, JSON.stringify(totals))
    assert.ok(totals.ratio > 2, `synchronous all-reduce ÷ Tandem = ${totals.ratio}`)

    const summary = await readFile(join(out, 'summary.md'), 'utf8')
    assert.match(summary, /^# Tandem evaluation \(quick\)/)
    assert.ok(summary.includes('| round | seconds | sent / contributor |'))
    assert.ok(summary.includes('](traffic/bytes-per-round.svg)'))
    assert.match(summary, /\| (met|\*\*missed\*\*) \|/)

    // Rebuilt from the JSON alone (nothing runs), into a fresh docs folder.
    const docs = await tempDir(t, 'tandem-eval-docs-')
    await runEval({
      quick: true,
      only: ['traffic'],
      out,
      publishTo: docs,
      dataDir: undefined,
      seed: 1,
      experimentsDir,
      log: () => {},
      fromJson: true,
    })
    const published = await readFile(join(docs, 'docs', 'eval.md'), 'utf8')
    assert.ok(published.includes('](eval/traffic/bytes-per-round.svg)'))
    assert.ok(existsSync(join(docs, 'docs', 'eval', 'traffic', 'bytes-per-round.svg')))
    assert.ok(existsSync(join(docs, 'docs', 'eval', 'traffic', 'traffic.json')))
  })

  it('refuses an experiment name it does not have', async (t) => {
    const out = await tempDir(t, 'tandem-eval-')
    await assert.rejects(
      runEval({
        quick: true,
        only: ['no-such-experiment'],
        out,
        dataDir: undefined,
        seed: 1,
        experimentsDir,
        log: () => {},
      }),
      /no experiment named no-such-experiment/,
    )
  })
})
