/** Joined and discovered projects, their manifests, and what a contributor can change about them. */
import { useId, useState } from 'react'
import { Methods, type ProjectSummary } from '../../../core/api/contract'
import { ErrorNote, Pending } from '../components/ErrorNote'
import { JoinLinkDialog, useJoinLink } from '../components/JoinLinkDialog'
import { Facts } from '../components/Facts'
import { Card, Page } from '../components/Page'
import { GovernanceCard } from '../components/Governance'
import { AddProjectForm, JoinButton, ProjectFacts } from '../components/ProjectParts'
import { ImageTryIt } from '../components/ImageTryIt'
import { ModelDownload, TryItBox } from '../components/TryIt'
import { formatNumber, formatPercent } from '../format'
import { isLanguageModel } from '../state/app-state'
import { useAction, useAppState, useController } from '../state/context'

export function ProjectsPage() {
  const projects = useAppState((s) => s.projects)
  const failure = useAppState((s) => s.failures.projects)
  const [chosen, setChosen] = useState<string | null>(null)
  const list = projects ?? []
  const joined = list.filter((p) => p.joined)
  const discovered = list.filter((p) => !p.joined)
  const selected = list.find((p) => p.key === chosen) ?? joined[0] ?? discovered[0] ?? null
  const link = useJoinLink()

  return (
    <Page id="projects" title="Projects">
      {link ? <JoinLinkDialog key={link} projectKey={link} /> : null}
      <Card id="add" title="Add a project">
        <AddProjectForm onJoined={setChosen} />
      </Card>
      {projects === null ? (
        <Pending error={failure} what="projects" />
      ) : (
        <div className="master-detail">
          <div className="project-lists">
            <ProjectList
              title="Joined"
              projects={joined}
              empty="You have not joined a project yet."
              selected={selected?.key ?? null}
              onSelect={setChosen}
              testId="joined-projects"
            />
            <ProjectList
              title="Discovered"
              projects={discovered}
              empty="No other projects found on the network."
              selected={selected?.key ?? null}
              onSelect={setChosen}
              testId="discovered-projects"
            />
          </div>
          {selected ? <ProjectDetail key={selected.key} project={selected} /> : null}
        </div>
      )}
    </Page>
  )
}

function ProjectList({
  title,
  projects,
  empty,
  selected,
  onSelect,
  testId,
}: {
  title: string
  projects: ProjectSummary[]
  empty: string
  selected: string | null
  onSelect: (key: string) => void
  testId: string
}) {
  const id = useId()
  return (
    <section aria-labelledby={id} data-testid={testId}>
      <h3 id={id}>{title}</h3>
      {projects.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <ul className="pick-list">
          {projects.map((p) => (
            <li key={p.key}>
              <button
                type="button"
                aria-pressed={p.key === selected}
                data-testid="project-item"
                onClick={() => onSelect(p.key)}
              >
                <span className="pick-name">{p.name}</span>
                <ProjectBadges project={p} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function ProjectBadges({ project: p }: { project: ProjectSummary }) {
  return (
    <span className="badges">
      {p.hosting ? <span className="badge">hosting</span> : null}
      {p.joined && p.paused ? <span className="badge warn">paused</span> : null}
      {p.joined && !p.paused ? <span className="badge ok">active</span> : null}
    </span>
  )
}

function ProjectDetail({ project: p }: { project: ProjectSummary }) {
  return (
    <article
      className="card project-detail"
      aria-labelledby="project-detail-title"
      data-testid="project-detail"
      data-project={p.key}
    >
      <div className="card-head">
        <h3 id="project-detail-title">{p.name}</h3>
        <ProjectBadges project={p} />
      </div>
      <p>{p.description}</p>
      {p.joined ? <JoinedControls project={p} /> : <JoinButton project={p} />}
      <ProjectFacts project={p} full />
      {p.joined ? (
        <Facts
          rows={[
            ['Your credits', formatNumber(p.credits)],
            [
              'Your reputation',
              p.reputation === null ? 'not rated yet' : formatPercent(p.reputation),
            ],
          ]}
        />
      ) : null}
      <GovernanceCard project={p} />
      {p.charter ? <ModelDownload project={p} /> : null}
      {isLanguageModel(p) ? <TryItBox project={p} /> : <ImageTryIt project={p} />}
    </article>
  )
}

function JoinedControls({ project: p }: { project: ProjectSummary }) {
  const controller = useController()
  const [setPaused, pauseState] = useAction((paused: boolean) =>
    controller.setProjectPaused(p.key, paused),
  )
  const [leave, leaveState] = useAction(() => controller.leave(p.key))
  const [confirming, setConfirming] = useState(false)
  return (
    <div className="controls">
      <button type="button" disabled={pauseState.pending} onClick={() => void setPaused(!p.paused)}>
        {p.paused ? 'Resume this project' : 'Pause this project'}
      </button>
      {confirming ? (
        <span className="confirm" role="group" aria-label="Confirm leaving">
          <span>Leave {p.name}? Its downloaded data is removed; your credits stay.</span>
          <button
            type="button"
            className="danger"
            disabled={leaveState.pending}
            onClick={() => void leave()}
          >
            Leave project
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Leave…
        </button>
      )}
      <ShareField project={p} />
      {pauseState.error ? <ErrorNote error={pauseState.error} /> : null}
      {leaveState.error ? <ErrorNote error={leaveState.error} /> : null}
    </div>
  )
}

const shareSchema = Methods['projects.setShare'].params.shape.share

/** BOINC-style resource share: applied when the field loses focus or on Enter. */
function ShareField({ project: p }: { project: ProjectSummary }) {
  const controller = useController()
  const id = useId()
  const [draft, setDraft] = useState<string | null>(null)
  const [save, state] = useAction(async (share: number) => {
    await controller.setShare(p.key, share)
    setDraft(null)
  })
  const text = draft ?? String(p.share)
  const parsed = text.trim() === '' ? null : shareSchema.safeParse(Number(text))
  const message =
    parsed === null
      ? 'Enter a share'
      : parsed.success
        ? null
        : (parsed.error.issues[0]?.message ?? 'Invalid share')
  const commit = () => {
    if (draft === null || !parsed?.success || parsed.data === p.share) return
    void save(parsed.data)
  }
  return (
    <div className="field share-field">
      <label htmlFor={`${id}-share`}>Resource share</label>
      <input
        id={`${id}-share`}
        type="number"
        inputMode="numeric"
        min={1}
        max={10000}
        step={1}
        value={text}
        aria-invalid={message !== null}
        aria-describedby={`${id}-share-help${message ? ` ${id}-share-err` : ''}`}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit()
        }}
      />
      <span className="help" id={`${id}-share-help`}>
        Relative to your other projects (1–10000).
      </span>
      {message ? (
        <span className="field-error" id={`${id}-share-err`} data-testid="field-error">
          {message}
        </span>
      ) : null}
      {state.pending ? <span className="muted">Saving…</span> : null}
      {state.done && draft === null ? (
        <span className="ok" data-testid="share-saved">
          Saved
        </span>
      ) : null}
      {state.error ? <ErrorNote error={state.error} /> : null}
    </div>
  )
}
