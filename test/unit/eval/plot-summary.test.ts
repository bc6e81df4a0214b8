/** The eval runner's pure parts: plot specs, SVG rendering and the markdown summary. */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { plotSpec, renderSvg, writePlot } from '../../eval/plot.js'
import { markdownTable, summaryMarkdown, type RunInfo } from '../../eval/summary.js'
import type { ExperimentResult, Plot } from '../../eval/types.js'

const plot: Plot = {
  file: 'loss',
  title: 'Loss against samples',
  xLabel: 'samples',
  yLabel: 'validation loss',
  logY: true,
  series: [
    { label: 'a', x: [0, 1, 2, 3], y: [4, 2, 0, Number.NaN] },
    { label: 'b', x: [0, 1], y: [3, 1.5] },
  ],
}

const info: RunInfo = {
  commit: 'a'.repeat(40),
  dirty: false,
  quick: true,
  startedAt: '2026-12-02T00:00:00.000Z',
  seed: 1,
  machine: { cpus: 2, cpuModel: 'cpu', memoryGiB: 4, platform: 'linux-x64', node: '20' },
}

const result: ExperimentResult = {
  name: 'demo',
  title: 'Demo: a | b',
  table: {
    columns: ['run', 'loss'],
    rows: [
      ['x|y', 1.23456],
      ['z', null],
    ],
  },
  targets: [
    { name: 'low loss', target: '< 2', measured: '1.23', met: true },
    { name: 'lower loss', target: '< 1', measured: '1.23', met: false },
  ],
  plots: [plot],
  details: {},
  notes: ['a note'],
}

describe('eval plots', () => {
  it('leaves out points a log axis or JSON cannot show, keeps series order', () => {
    const spec = plotSpec(plot) as unknown as {
      data: { values: { x: number; y: number; series: string }[] }
      encoding: { y: { scale: { type?: string } }; color: { sort: string[] } }
    }
    assert.deepEqual(
      spec.data.values.map((v) => `${v.series}:${v.x}`),
      ['a:0', 'a:1', 'b:0', 'b:1'],
    )
    assert.equal(spec.encoding.y.scale.type, 'log')
    assert.deepEqual(spec.encoding.color.sort, ['a', 'b'])
  })

  it('renders an SVG with the title and axis labels, and refuses a path as a file name', async () => {
    const svg = await renderSvg(plot)
    assert.match(svg, /^<svg/)
    for (const text of [plot.title, plot.xLabel, plot.yLabel]) assert.ok(svg.includes(text), text)
    const dir = await mkdtemp(join(tmpdir(), 'tandem-plot-'))
    try {
      assert.match(await writePlot(dir, plot), /loss\.svg$/)
      await assert.rejects(writePlot(dir, { ...plot, file: '../escape' }), /plain file stem/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a series whose x and y differ in length', () => {
    assert.throws(
      () => plotSpec({ ...plot, series: [{ label: 'bad', x: [1, 2], y: [1] }] }),
      /2 x and 1 y/,
    )
  })
})

describe('eval summary', () => {
  it('escapes table cells and formats numbers', () => {
    const md = markdownTable({
      columns: ['a', 'b'],
      rows: [
        ['p|q', 12345.678],
        [null, 0.000012],
      ],
    })
    assert.equal(md.split('\n')[2], '| p\\|q | 12,350 |')
    assert.equal(md.split('\n')[3], '| – | 1.200e-5 |')
  })

  it('lists every experiment, its targets met or missed, plots and notes; a failure says so', () => {
    const md = summaryMarkdown(info, [
      { name: 'demo', seconds: 12, result },
      { name: 'broken', seconds: 1, error: 'it threw' },
    ])
    assert.match(md, /^# Tandem evaluation \(quick\)/)
    assert.ok(md.includes('Targets met: 1 of 2. Experiments that failed: broken.'))
    assert.ok(md.includes('| low loss | < 2 | 1.23 | met |'))
    assert.ok(md.includes('| lower loss | < 1 | 1.23 | **missed** |'))
    assert.ok(md.includes('![Loss against samples](demo/loss.svg)'))
    assert.ok(md.includes('- a note'))
    assert.ok(md.includes('**Failed:** it threw'))
    assert.ok(md.includes('[demo](#demo-a--b)'))
  })
})
