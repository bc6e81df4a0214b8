/**
 * A uPlot line chart that follows its container's width and the theme. The canvas is drawn by
 * uPlot; React only owns the wrapper, whose data-points attribute lets tests see new data arrive.
 */
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { Theme } from '../theme'

export interface ChartSeries {
  label: string
  color: { light: string; dark: string }
  dash?: number[]
  /** Draw each point (for sparse series such as per-round validation loss). */
  points?: boolean
}

interface Props {
  /** x first (seconds since epoch), then one array per series; null leaves a gap. */
  data: uPlot.AlignedData
  series: ChartSeries[]
  theme: Theme
  label: string
  testId: string
  height?: number
  yLabel?: string
}

const axisColors = {
  light: { text: '#5f5f5a', grid: 'rgba(0,0,0,0.08)' },
  dark: { text: '#a3a39e', grid: 'rgba(255,255,255,0.08)' },
}

/** Half the time axis shown around a single instant (seconds). */
const LONE_POINT_PAD_SEC = 300

/**
 * The x range is the data's span. For a zero span (one point, or all at one instant) uPlot makes
 * it a day of milliseconds, which with seconds on the axis is about three years, the point lost at
 * the left edge. Show a few minutes around that instant instead.
 */
const timeRange: uPlot.Range.Function = (u, min, max) => {
  const xs = u.data[0]
  const first = xs[0]
  return first !== undefined && first === xs[xs.length - 1]
    ? [first - LONE_POINT_PAD_SEC, first + LONE_POINT_PAD_SEC]
    : [min, max]
}

function options(
  width: number,
  height: number,
  series: ChartSeries[],
  theme: Theme,
  yLabel?: string,
): uPlot.Options {
  const axis = axisColors[theme]
  return {
    width,
    height,
    scales: { x: { time: true, range: timeRange } },
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    axes: [
      // Wider tick spacing than uPlot's default: "10:35am" labels collide at 50 px.
      { stroke: axis.text, grid: { stroke: axis.grid }, ticks: { stroke: axis.grid }, space: 80 },
      {
        stroke: axis.text,
        grid: { stroke: axis.grid },
        ticks: { stroke: axis.grid },
        ...(yLabel ? { label: yLabel } : {}),
        size: 56,
      },
    ],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color[theme],
        width: 2,
        spanGaps: true,
        ...(s.dash ? { dash: s.dash } : {}),
        // Unless asked for, uPlot shows points only where they are sparse: a lone point (the
        // first receipt, the first step) is still drawn, a dense line is not dotted.
        points: s.points ? { show: true, size: 6 } : { size: 6 },
      })),
    ],
  }
}

export function LineChart({ data, series, theme, label, testId, height = 220, yLabel }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const latest = useRef(data)
  // Rebuild only when the look changes; new data goes through setData. This effect is declared
  // first so a rebuild in the same commit already sees the newest data.
  const look = JSON.stringify([series, theme, height, yLabel])

  useEffect(() => {
    latest.current = data
    plot.current?.setData(data)
  }, [data])

  useEffect(() => {
    const el = box.current
    if (!el) return
    const [s, t, h, y] = JSON.parse(look) as [ChartSeries[], Theme, number, string | undefined]
    const u = new uPlot(options(Math.max(200, el.clientWidth), h, s, t, y), latest.current, el)
    plot.current = u
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth)
      if (width !== u.width) u.setSize({ width, height: h })
    })
    resize.observe(el)
    return () => {
      resize.disconnect()
      u.destroy()
      plot.current = null
    }
  }, [look])

  return (
    <div
      className="chart"
      ref={box}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-points={data[0].length}
    />
  )
}
