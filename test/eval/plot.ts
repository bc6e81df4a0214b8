/**
 * Draws an experiment's `Plot` as a standalone SVG with Vega-Lite (compiled to Vega, rendered
 * headless: the SVG renderer needs no canvas, so this is pure JavaScript in Node). One line per
 * series, points on the lines, an optional log y axis.
 */
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { Plot } from './types.js'

interface Row {
  x: number
  y: number
  series: string
}

function rows(plot: Plot): Row[] {
  const out: Row[] = []
  for (const s of plot.series) {
    if (s.x.length !== s.y.length)
      throw new Error(
        `plot ${plot.file}: series "${s.label}" has ${s.x.length} x and ${s.y.length} y values`,
      )
    s.x.forEach((x, i) => {
      const y = s.y[i] as number
      // A log axis cannot show 0 or negatives, and JSON cannot carry NaN: leave those points out.
      if (!Number.isFinite(x) || !Number.isFinite(y) || (plot.logY && y <= 0)) return
      out.push({ x, y, series: s.label })
    })
  }
  return out
}

/** The Vega-Lite spec of one plot (exported for tests and for anyone who wants the spec itself). */
export function plotSpec(plot: Plot): TopLevelSpec {
  const order = plot.series.map((s) => s.label)
  const integerX = plot.series.every((s) => s.x.every((x) => Number.isInteger(x)))
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: plot.title,
    width: 520,
    height: 300,
    background: 'white',
    data: { values: rows(plot) },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: plot.xLabel,
        scale: { zero: false },
        // Rounds and contributor counts: whole-number ticks only.
        ...(integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: plot.yLabel,
        scale: plot.logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null, sort: order },
      // Keep each series' points in x order whatever order they were measured in.
      order: { field: 'x', type: 'quantitative' },
    },
    config: { legend: { orient: 'bottom', columns: 2, labelLimit: 320 } },
  }
}

export async function renderSvg(plot: Plot): Promise<string> {
  const view = new vega.View(vega.parse(compile(plotSpec(plot)).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** Writes `<dir>/<plot.file>.svg` (atomically) and returns its path. */
export async function writePlot(dir: string, plot: Plot): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(plot.file))
    throw new Error(`plot file name "${plot.file}" must be a plain file stem`)
  const path = join(dir, `${plot.file}.svg`)
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, await renderSvg(plot))
  await rename(tmp, path)
  return path
}
