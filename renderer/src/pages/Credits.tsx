/** What this node earned: totals, per project, over time, and every receipt behind them. */
import { useMemo, useState } from 'react'
import type uPlot from 'uplot'
import type { CreditsSummary, ReceiptView, VerifyReport } from '../../../core/api/contract'
import { ErrorNote, Pending } from '../components/ErrorNote'
import { LineChart } from '../components/LineChart'
import { Card, Page } from '../components/Page'
import { ReceiptDialog } from '../components/ReceiptDialog'
import { formatDateTime, formatNumber, formatPercent, lossChange } from '../format'
import { useAction, useAppState, useController } from '../state/context'
import { useTheme } from '../theme'

export function CreditsPage() {
  const credits = useAppState((s) => s.credits)
  const failure = useAppState((s) => s.failures.credits)
  return (
    <Page id="credits" title="Credits">
      {credits ? (
        <>
          <Totals credits={credits} />
          <HistoryCard credits={credits} />
          <PerProject credits={credits} />
        </>
      ) : (
        <Pending error={failure} what="credits" />
      )}
      <Receipts />
    </Page>
  )
}

function Totals({ credits }: { credits: CreditsSummary }) {
  const reputation =
    credits.projects.length === 0
      ? null
      : credits.projects.reduce((sum, p) => sum + p.reputation, 0) / credits.projects.length
  return (
    <div className="tiles" data-testid="credit-totals">
      <div className="tile">
        <span className="tile-label">Total credits</span>
        <span className="tile-value" data-testid="credits-total">
          {formatNumber(credits.total)}
        </span>
      </div>
      <div className="tile">
        <span className="tile-label">Recent average (RAC)</span>
        <span className="tile-value" data-testid="credits-rac">
          {formatNumber(credits.rac)}
          <small> / day</small>
        </span>
      </div>
      <div className="tile">
        <span className="tile-label">Average reputation</span>
        <span className="tile-value">{reputation === null ? '—' : formatPercent(reputation)}</span>
      </div>
    </div>
  )
}

const historyLook = [{ label: 'Total credits', color: { light: '#15803d', dark: '#4ade80' } }]

function HistoryCard({ credits }: { credits: CreditsSummary }) {
  const theme = useTheme()
  const data = useMemo<uPlot.AlignedData>(
    () => [credits.history.map((h) => h.t / 1000), credits.history.map((h) => h.total)],
    [credits.history],
  )
  return (
    <Card id="credit-history" title="Credits over time">
      <LineChart
        data={data}
        series={historyLook}
        theme={theme}
        label="Cumulative credits over time"
        testId="credits-chart"
        height={180}
      />
    </Card>
  )
}

function PerProject({ credits }: { credits: CreditsSummary }) {
  const controller = useController()
  const [reports, setReports] = useState<Record<string, VerifyReport>>({})
  const [verifying, setVerifying] = useState<string | null>(null)
  const [verify, state] = useAction(async (project: string) => {
    setVerifying(project)
    const report = await controller.verifyLedger(project)
    setReports((r) => ({ ...r, [project]: report }))
  })
  return (
    <Card id="per-project" title="Per project">
      {credits.projects.length === 0 ? (
        <p className="muted">No credits yet: they appear when a round you helped with closes.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="project-credits">
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col" className="num">
                  Credits
                </th>
                <th scope="col" className="num">
                  RAC
                </th>
                <th scope="col" className="num">
                  Reputation
                </th>
                <th scope="col" className="num">
                  Accepted
                </th>
                <th scope="col" className="num">
                  Rejected
                </th>
                <th scope="col">
                  <span className="sr-only">Ledger</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {credits.projects.map((p) => (
                <tr key={p.project}>
                  <th scope="row">{p.name}</th>
                  <td className="num">{formatNumber(p.credits)}</td>
                  <td className="num">{formatNumber(p.rac)}</td>
                  <td className="num">{formatPercent(p.reputation)}</td>
                  <td className="num">{p.accepted}</td>
                  <td className="num">{p.rejected}</td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Verify ledger of ${p.name}`}
                      disabled={state.pending}
                      onClick={() => void verify(p.project)}
                    >
                      {state.pending && verifying === p.project ? 'Verifying…' : 'Verify ledger'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {state.error ? <ErrorNote error={state.error} /> : null}
      {credits.projects.map((p) =>
        reports[p.project] ? (
          <VerifyResult key={p.project} name={p.name} report={reports[p.project]!} />
        ) : null,
      )}
    </Card>
  )
}

function VerifyResult({ name, report }: { name: string; report: VerifyReport }) {
  const bad = report.rounds.filter((r) => !r.ok)
  return (
    <section
      className={`verify ${report.ok ? 'ok' : 'bad'}`}
      data-testid="verify-report"
      data-project={report.project}
      data-ok={report.ok}
      aria-label={`Ledger check of ${name}`}
    >
      <p>
        <strong>
          {report.ok
            ? `Ledger of ${name} verified: ${report.rounds.length} rounds, no problems.`
            : `Ledger of ${name}: ${bad.length} of ${report.rounds.length} rounds have problems.`}
        </strong>
      </p>
      <details open={!report.ok}>
        <summary>Round by round</summary>
        <div className="table-wrap scroll-y">
          <table>
            <thead>
              <tr>
                <th scope="col">Round</th>
                <th scope="col">Result</th>
                <th scope="col">Problems</th>
              </tr>
            </thead>
            <tbody>
              {report.rounds.map((r) => (
                <tr key={r.round} data-testid="verify-round" data-ok={r.ok}>
                  <td>{r.round}</td>
                  <td>{r.ok ? 'OK' : 'Problem'}</td>
                  <td>
                    {r.problems.map((problem, i) => (
                      <div key={i}>
                        <code>{problem.code}</code> {problem.message}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  )
}

function Receipts() {
  const receipts = useAppState((s) => s.receipts)
  const failure = useAppState((s) => s.failures.receipts)
  const [project, setProject] = useState('all')
  const [open, setOpen] = useState<ReceiptView | null>(null)
  const names = useMemo(() => {
    const map = new Map<string, string>()
    for (const r of receipts ?? []) map.set(r.project, r.projectName)
    return [...map]
  }, [receipts])
  const shown = (receipts ?? []).filter((r) => project === 'all' || r.project === project)
  return (
    <Card
      id="receipts"
      title="Receipts"
      actions={
        names.length > 1 ? (
          <label className="inline-label">
            <span>Project</span>
            <select value={project} onChange={(e) => setProject(e.target.value)}>
              <option value="all">All</option>
              {names.map(([key, name]) => (
                <option key={key} value={key}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        ) : null
      }
    >
      {receipts === null ? (
        <Pending error={failure} what="receipts" />
      ) : shown.length === 0 ? (
        <p className="muted">No receipts yet.</p>
      ) : (
        <div className="table-wrap scroll-y">
          <table className="rows-clickable" data-testid="receipts">
            <thead>
              <tr>
                <th scope="col">Round</th>
                <th scope="col">Project</th>
                <th scope="col">Closed</th>
                <th scope="col">Result</th>
                <th scope="col" className="num">
                  Loss change
                </th>
                <th scope="col" className="num">
                  Credits
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr
                  key={`${r.project}:${r.round}`}
                  data-testid="receipt-row"
                  data-accepted={r.accepted}
                  onClick={() => setOpen(r)}
                >
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-label={`Receipt for ${r.projectName} round ${r.round}`}
                      onClick={(e) => {
                        e.stopPropagation()
                        setOpen(r)
                      }}
                    >
                      {r.round}
                    </button>
                  </td>
                  <td>{r.projectName}</td>
                  <td>{formatDateTime(r.closedAt)}</td>
                  <td>
                    {r.accepted ? (
                      <span className="badge ok">accepted</span>
                    ) : (
                      <>
                        <span className="badge bad">rejected</span>{' '}
                        <span className="reason">{r.reason ?? 'no reason given'}</span>
                      </>
                    )}
                  </td>
                  <td className="num">{lossChange(r.lossBefore, r.lossAfter)}</td>
                  <td className="num">{formatNumber(r.credits)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open ? <ReceiptDialog receipt={open} onClose={() => setOpen(null)} /> : null}
    </Card>
  )
}
