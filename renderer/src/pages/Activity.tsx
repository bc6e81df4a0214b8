/** The node's log, live, filtered by level and subsystem. */
import { useId, useMemo, useState } from 'react'
import { LOG_LEVELS, type LogEntry } from '../../../core/api/contract'
import { ErrorNote } from '../components/ErrorNote'
import { Card, Page } from '../components/Page'
import { formatTime } from '../format'
import { useAppState } from '../state/context'

type Level = LogEntry['level']
const rank = (level: Level) => LOG_LEVELS.indexOf(level)
/** Rendering thousands of rows costs more than anyone reads; filters narrow it down. */
const MAX_ROWS = 500

export function ActivityPage() {
  const logs = useAppState((s) => s.logs)
  const failure = useAppState((s) => s.failures.logs)
  const id = useId()
  const [level, setLevel] = useState<Level>('info')
  const [subsystem, setSubsystem] = useState('all')
  const subsystems = useMemo(() => [...new Set(logs.map((l) => l.subsystem))].sort(), [logs])
  const shown = useMemo(() => {
    const min = rank(level)
    const out: LogEntry[] = []
    for (let i = logs.length - 1; i >= 0 && out.length < MAX_ROWS; i--) {
      const entry = logs[i]!
      if (rank(entry.level) >= min && (subsystem === 'all' || entry.subsystem === subsystem))
        out.push(entry)
    }
    return out
  }, [logs, level, subsystem])

  return (
    <Page id="activity" title="Activity">
      <Card
        id="log"
        title="Log"
        actions={
          <div className="filters" role="group" aria-label="Log filters">
            <label htmlFor={`${id}-level`}>Level</label>
            <select
              id={`${id}-level`}
              value={level}
              data-testid="log-level"
              onChange={(e) => setLevel(e.target.value as Level)}
            >
              {LOG_LEVELS.map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
            <label htmlFor={`${id}-subsystem`}>Subsystem</label>
            <select
              id={`${id}-subsystem`}
              value={subsystem}
              data-testid="log-subsystem"
              onChange={(e) => setSubsystem(e.target.value)}
            >
              <option value="all">all</option>
              {subsystems.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
        }
      >
        {failure ? <ErrorNote error={failure} /> : null}
        <p className="muted" aria-live="polite" data-testid="log-count">
          Showing {shown.length} of {logs.length} entries, newest first.
        </p>
        <div className="table-wrap scroll-y tall">
          <table className="log" data-testid="log-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Level</th>
                <th scope="col">Subsystem</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((entry, i) => (
                <tr
                  key={`${entry.t}:${i}:${entry.msg.slice(0, 16)}`}
                  data-testid="log-row"
                  data-level={entry.level}
                  data-subsystem={entry.subsystem}
                >
                  <td className="nowrap">{formatTime(entry.t)}</td>
                  <td>
                    <span className={`level level-${entry.level}`}>{entry.level}</span>
                  </td>
                  <td>{entry.subsystem}</td>
                  <td className="msg">{entry.msg}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </Page>
  )
}
