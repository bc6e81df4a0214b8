/** Before any project is joined: can this PC help, and a short path to joining one. */
import { useEffect } from 'react'
import type { Preflight } from '../../../core/api/contract'
import { ErrorNote, Pending } from '../components/ErrorNote'
import { Facts } from '../components/Facts'
import { Card, Page } from '../components/Page'
import { AddProjectForm, JoinButton, ProjectFacts } from '../components/ProjectParts'
import { SpeedTable } from '../components/SpeedTable'
import { formatBytes } from '../format'
import { useAction, useAppState, useController } from '../state/context'

export function FirstRun() {
  return (
    <Page id="dashboard" title="Welcome to Tandem">
      <div data-testid="first-run">
        <p className="lead">
          Tandem lends this computer’s spare GPU or CPU time to open AI training projects. You stay
          in control: pause any time, choose when it runs, and see every credit you earn.
        </p>
        <PreflightCard />
        <JoinCard />
      </div>
    </Page>
  )
}

function PreflightCard() {
  const controller = useController()
  const preflight = useAppState((s) => s.preflight)
  const failure = useAppState((s) => s.failures.preflight)
  const [check, state] = useAction(() => controller.refreshPreflight())
  const asked = preflight !== null || failure !== undefined
  useEffect(() => {
    if (!asked) void check()
  }, [asked, check])
  return (
    <Card
      id="preflight"
      title="Can this PC help?"
      testId="preflight"
      actions={
        <button type="button" disabled={state.pending} onClick={() => void check()}>
          {state.pending ? 'Checking…' : 'Check again'}
        </button>
      }
    >
      {preflight ? (
        <PreflightReport report={preflight} />
      ) : (
        <Pending error={failure} what="the check" />
      )}
      {preflight && failure ? <ErrorNote error={failure} /> : null}
    </Card>
  )
}

function PreflightReport({ report }: { report: Preflight }) {
  const { backend, memory, disk, network } = report
  return (
    <>
      <p
        className={report.canHelp ? 'verdict ok' : 'verdict bad'}
        data-testid="preflight-verdict"
        data-can-help={report.canHelp}
      >
        {report.canHelp ? 'Yes — this PC can help.' : 'Not right now.'}
      </p>
      {report.problems.length > 0 ? (
        <ul className="problems" data-testid="preflight-problems">
          {report.problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      ) : null}
      <Facts
        testId="preflight-facts"
        rows={[
          ['Compute', `${backend.chosen} on ${backend.device}`],
          [
            'Measured speed',
            backend.measured ? <SpeedTable table={backend.measured} /> : undefined,
          ],
          [
            'Why not faster',
            backend.skipped.length === 0 ? (
              'this is the fastest backend here'
            ) : (
              <ul className="plain">
                {backend.skipped.map((s) => (
                  <li key={s.name}>
                    <code>{s.name}</code>: {s.reason}
                  </li>
                ))}
              </ul>
            ),
          ],
          ['Memory', `${formatBytes(memory.freeBytes)} free of ${formatBytes(memory.totalBytes)}`],
          ['Disk', `${formatBytes(disk.freeBytes)} free at ${disk.path}`],
          [
            'Network',
            network.online
              ? `online, ${network.peers} peer${network.peers === 1 ? '' : 's'} found`
              : 'offline',
          ],
        ]}
      />
    </>
  )
}

function JoinCard() {
  const projects = useAppState((s) => s.projects) ?? []
  const open = projects.filter((p) => !p.joined)
  return (
    <Card id="join" title="Join a project" testId="join-card">
      {open.length === 0 ? (
        <p className="muted">
          No projects found on the network yet. If someone gave you a project key or link, add it
          below.
        </p>
      ) : (
        <ul className="project-cards">
          {open.map((p) => (
            <li key={p.key} className="project-card" data-testid="discover-project">
              <div className="card-head">
                <h4>{p.name}</h4>
                <JoinButton project={p} />
              </div>
              <p>{p.description}</p>
              <ProjectFacts project={p} />
            </li>
          ))}
        </ul>
      )}
      <AddProjectForm />
    </Card>
  )
}
