/** What this node is doing right now: activity, the current round, live loss, sample text. */
import { useMemo } from 'react'
import type uPlot from 'uplot'
import type {
  LossPoint,
  NodeActivity,
  NodeStatus,
  ProjectSummary,
} from '../../../core/api/contract'
import { ErrorNote, Pending } from '../components/ErrorNote'
import { Facts } from '../components/Facts'
import { LineChart } from '../components/LineChart'
import { Card, Page } from '../components/Page'
import { SpeedTable } from '../components/SpeedTable'
import { formatDateTime, formatDuration, formatLoss, formatNumber, shortKey } from '../format'
import { currentProject, isLanguageModel } from '../state/app-state'
import { useAction, useAppState, useController } from '../state/context'
import { useTheme } from '../theme'
import { FirstRun } from './FirstRun'

export function DashboardPage() {
  const projects = useAppState((s) => s.projects)
  const failure = useAppState((s) => s.failures.projects)
  if (projects === null) {
    return (
      <Page id="dashboard" title="Dashboard">
        <Pending error={failure} what="projects" />
      </Page>
    )
  }
  if (!projects.some((p) => p.joined)) return <FirstRun />
  return <Dashboard />
}

const activityLabels: Record<NodeActivity, string> = {
  training: 'Training',
  paused: 'Paused',
  idle: 'Idle',
  waiting: 'Waiting',
  offline: 'Offline',
}

function Dashboard() {
  const status = useAppState((s) => s.status)
  const statusFailure = useAppState((s) => s.failures.status)
  const project = useAppState(currentProject)
  return (
    <Page id="dashboard" title="Dashboard">
      {status ? (
        <div className="grid two">
          <ActivityCard status={status} />
          <RoundCard status={status} project={project} />
        </div>
      ) : (
        <Pending error={statusFailure} what="node status" />
      )}
      {project ? <LossCard project={project} /> : null}
      {project && isLanguageModel(project) ? <SampleCard project={project} /> : null}
    </Page>
  )
}

function ActivityCard({ status }: { status: NodeStatus }) {
  const credits = useAppState((s) => s.credits)
  const joined = useAppState((s) => s.projects?.filter((p) => p.joined).length ?? 0)
  return (
    <Card id="activity" title="Activity">
      <p
        className={`activity activity-${status.activity}`}
        data-testid="activity"
        data-activity={status.activity}
      >
        <span className="dot" aria-hidden="true" />
        {activityLabels[status.activity]}
      </p>
      <p className="reason" data-testid="activity-reason">
        {status.reason}
      </p>
      <PauseControls status={status} />
      <Facts
        rows={[
          ['Running since', formatDateTime(status.startedAt)],
          ['Joined projects', String(joined)],
          [
            'Credits',
            credits
              ? `${formatNumber(credits.total)} (${formatNumber(credits.rac)} a day recently)`
              : undefined,
          ],
        ]}
      />
    </Card>
  )
}

function PauseControls({ status }: { status: NodeStatus }) {
  const controller = useController()
  const [pause, pauseState] = useAction((mode: 'now' | 'after-round') => controller.pause(mode))
  const [resume, resumeState] = useAction(() => controller.resume())
  const busy = pauseState.pending || resumeState.pending
  const error = pauseState.error ?? resumeState.error
  return (
    <div className="controls" data-testid="pause-controls">
      {status.userPaused || status.pauseAfterRound ? (
        <button type="button" className="primary" disabled={busy} onClick={() => void resume()}>
          {status.userPaused ? 'Resume' : 'Keep going (cancel pause)'}
        </button>
      ) : null}
      {!status.userPaused ? (
        <button type="button" disabled={busy} onClick={() => void pause('now')}>
          Pause now
        </button>
      ) : null}
      {!status.userPaused && !status.pauseAfterRound ? (
        <button type="button" disabled={busy} onClick={() => void pause('after-round')}>
          Pause after this round
        </button>
      ) : null}
      {status.pauseAfterRound && !status.userPaused ? (
        <p className="muted" data-testid="pause-pending">
          Will pause when this round is done.
        </p>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
    </div>
  )
}

const phaseLabels = {
  downloading: 'Downloading the model',
  training: 'Training',
  uploading: 'Uploading the update',
  submitted: 'Update submitted, waiting for the round to close',
  closed: 'Round closed',
} as const

function RoundCard({ status, project }: { status: NodeStatus; project: ProjectSummary | null }) {
  const progress = status.progress
  const fraction = progress && progress.steps > 0 ? progress.step / progress.steps : null
  // While the node may not compute (paused by you, or a rule such as the schedule) the round stands
  // still where it is: say so instead of "Training" and a countdown that is not running.
  const onHold =
    progress !== null &&
    status.activity !== 'training' &&
    (progress.phase === 'downloading' || progress.phase === 'training')
  const backend = status.backend
  return (
    <Card id="round" title="Current work" testId="round-card">
      {project ? (
        <p className="project-line">
          <strong data-testid="current-project">{project.name}</strong>
          {progress ? (
            <span data-testid="current-round"> · round {progress.round}</span>
          ) : (
            <span> · round {project.round}</span>
          )}
        </p>
      ) : null}
      {progress ? (
        <>
          <label
            className="progress-label"
            htmlFor="round-progress"
            data-testid="round-phase"
            data-phase={progress.phase}
            data-on-hold={onHold}
          >
            {phaseLabels[progress.phase]}
            {progress.steps > 0 ? ` · step ${progress.step} of ${progress.steps}` : ''}
            {onHold ? ' · on hold' : ''}
          </label>
          <progress
            id="round-progress"
            data-testid="round-progress"
            max={progress.steps || 1}
            value={fraction === null ? undefined : progress.step}
          />
          <Facts
            rows={[
              [
                'Time left',
                onHold
                  ? 'on hold'
                  : progress.etaSec === null
                    ? 'unknown'
                    : formatDuration(progress.etaSec),
              ],
              [
                'Throughput',
                <span data-testid="throughput">
                  {formatNumber(progress.samplesPerSec)} samples/s
                  {project
                    ? ` · ${formatNumber(progress.samplesPerSec * project.model.gflopPerSample)} GFLOP/s`
                    : ''}
                </span>,
              ],
              ['Last loss', formatLoss(progress.loss)],
            ]}
          />
        </>
      ) : (
        <p className="muted">No round in progress.</p>
      )}
      <Facts
        rows={[
          [
            'Compute',
            backend ? (
              <span data-testid="backend">
                {backend.chosen} on {backend.device}
              </span>
            ) : (
              'not chosen yet'
            ),
          ],
          [
            'Measured speed',
            backend?.measured ? <SpeedTable table={backend.measured} /> : undefined,
          ],
          ['Peers', <span data-testid="peers">{status.peers}</span>],
          ['Node', <span title={status.key}>{status.displayId || shortKey(status.key)}</span>],
        ]}
      />
    </Card>
  )
}

function lossSeries(points: LossPoint[], project: string): uPlot.AlignedData {
  const xs: number[] = []
  const train: (number | null)[] = []
  const validation: (number | null)[] = []
  for (const p of points) {
    if (p.project !== project) continue
    xs.push(p.t / 1000)
    train.push(p.kind === 'train' ? p.loss : null)
    validation.push(p.kind === 'validation' ? p.loss : null)
  }
  return [xs, train, validation]
}

const lossLook = [
  { label: 'Training loss (this node)', color: { light: '#2f6fde', dark: '#7aa7ff' } },
  {
    label: 'Validation loss (global model)',
    color: { light: '#c2410c', dark: '#fb923c' },
    points: true,
  },
]

function LossCard({ project }: { project: ProjectSummary }) {
  const loss = useAppState((s) => s.loss)
  const failure = useAppState((s) => s.failures.loss)
  const theme = useTheme()
  const data = useMemo(() => lossSeries(loss, project.key), [loss, project.key])
  const last = loss.findLast((p) => p.project === project.key)
  return (
    <Card
      id="loss"
      title="Loss"
      actions={
        <span className="muted" data-testid="latest-loss">
          {last ? `latest ${formatLoss(last.loss)} (round ${last.round})` : 'no points yet'}
        </span>
      }
    >
      {failure ? <ErrorNote error={failure} /> : null}
      <LineChart
        data={data}
        series={lossLook}
        theme={theme}
        label={`Loss over time for ${project.name}`}
        testId="loss-chart"
        height={200}
      />
    </Card>
  )
}

function SampleCard({ project }: { project: ProjectSummary }) {
  const controller = useController()
  const sample = useAppState((s) => s.samples[project.key])
  const failure = useAppState((s) => s.failures.sample)
  const [refresh, state] = useAction(() => controller.loadSample(project.key))
  return (
    <Card
      id="sample"
      title="What the model writes"
      actions={
        <button type="button" disabled={state.pending} onClick={() => void refresh()}>
          New sample
        </button>
      }
    >
      {failure ? <ErrorNote error={failure} /> : null}
      {sample ? (
        <figure className="sample">
          <pre data-testid="model-sample" data-round={sample.round}>
            {sample.text}
          </pre>
          <figcaption className="muted">
            Generated by the global model after round {sample.round}; refreshed when a round closes.
          </figcaption>
        </figure>
      ) : failure ? null : (
        <p className="muted">Waiting for the first sample…</p>
      )}
    </Card>
  )
}
