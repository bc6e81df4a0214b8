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
    scales: { x: { time: true } },
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
        points: { show: s.points ?? false, size: 6 },
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
