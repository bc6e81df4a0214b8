/**
 * `auto`'s measured backend table as text: `tandem doctor` prints it whole, `tandem status`
 * under the backend line. A pure function of the contract's SpeedTable, tested without a node.
 */
import type { SpeedTable } from '../../api/contract.js'

const rate = (n: number | null) =>
  n === null ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: n >= 100 ? 0 : 1 })

export function formatSpeedTable(table: SpeedTable, indent = ''): string {
  const when = table.cached
    ? `cached, measured ${new Date(table.measuredAt).toISOString()}`
    : 'measured now'
  const rows = [
    ['backend', 'samples/s', 'ms/step', 'device / detail'],
    ...table.speeds.map((s) => [
      `${s.name === table.chosen ? '*' : ' '} ${s.name}`,
      rate(s.samplesPerSec),
      s.msPerStep === null ? '—' : s.msPerStep.toFixed(1),
      s.device === s.name
        ? s.detail
        : [
            s.software ? '[software adapter]' : '',
            s.device,
            s.detail === 'measured' ? '' : `(${s.detail})`,
          ]
            .filter(Boolean)
            .join(' '),
    ]),
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  )
  return [
    `measured on ${table.workload} (${when}):`,
    ...lines,
    `chosen: ${table.chosen} (${table.why})`,
  ]
    .map((l) => `${indent}${l}\n`)
    .join('')
}
