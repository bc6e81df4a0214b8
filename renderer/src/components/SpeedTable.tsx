import type { SpeedTable as Table } from '../../../core/api/contract'
import { formatNumber } from '../format'

/**
 * `auto`'s measured backend table: every backend's training speed on the measured model, which
 * are software GPU adapters, the winner and why it won (the same table as `tandem doctor`).
 */
export function SpeedTable({ table }: { table: Table }) {
  return (
    <div className="speed-table" data-testid="backend-speeds">
      <p className="muted" data-testid="backend-why">
        {table.why}. Measured on {table.workload}
        {table.cached ? `, ${new Date(table.measuredAt).toLocaleDateString()}` : ''}.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Backend</th>
              <th scope="col" className="num">
                Samples/s
              </th>
              <th scope="col">Device</th>
            </tr>
          </thead>
          <tbody>
            {table.speeds.map((s) => (
              <tr
                key={s.name}
                data-testid="backend-speed"
                data-backend={s.name}
                data-chosen={s.name === table.chosen}
                data-software={s.software}
              >
                <th scope="row">
                  {s.name}
                  {s.name === table.chosen ? ' ✓' : ''}
                </th>
                <td className="num">
                  {s.samplesPerSec === null ? '—' : formatNumber(s.samplesPerSec)}
                </td>
                <td>
                  {s.software ? <strong>software adapter · </strong> : null}
                  {s.device === s.name ? '' : s.device}
                  {s.detail === 'measured' ? '' : ` (${s.detail})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}
