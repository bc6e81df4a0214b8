/** Pieces shared by the first-run path and the Projects page. */
import { useId, useState, type FormEvent } from 'react'
import type { ProjectSummary } from '../../../core/api/contract'
import { formatBytes, formatCount, formatDuration, shortKey } from '../format'
import { parseProjectRef } from '../project-ref'
import { useAction, useController } from '../state/context'
import { ErrorNote } from './ErrorNote'
import { Facts } from './Facts'

export function modelLine(p: ProjectSummary): string {
  return `${p.model.kind}, ${formatCount(p.model.params)} parameters`
}

export function ProjectFacts({ project: p, full }: { project: ProjectSummary; full?: boolean }) {
  return (
    <Facts
      testId="project-facts"
      rows={[
        ['Trains', modelLine(p)],
        ['Dataset', `${p.dataset.name} (${formatBytes(p.dataset.bytes)})`],
        ['Dataset license', p.dataset.license],
        ['Contributors', String(p.contributors)],
        ['Round', full ? String(p.round) : undefined],
        ['Bandwidth', `${formatBytes(p.bandwidthPerRound)} per round`],
        ['Disk', formatBytes(p.diskBytes)],
        [
          'Host',
          full ? (
            <span title={p.host}>
              {shortKey(p.host)}
              {p.hosting ? ' (this node)' : ''}
            </span>
          ) : undefined,
        ],
        [
          'Recipe',
          full
            ? `${p.recipe.innerSteps} steps × batch ${p.recipe.batchSize}, ${p.recipe.rule}, rounds due in ${formatDuration(p.recipe.roundDeadlineSec)}`
            : undefined,
        ],
        ['Cost per sample', full ? `${p.model.gflopPerSample.toFixed(3)} GFLOP` : undefined],
        ['Key', full ? <code className="key">{p.key}</code> : undefined],
      ]}
    />
  )
}

export function JoinButton({ project, share }: { project: ProjectSummary; share?: number }) {
  const controller = useController()
  const [join, state] = useAction((key: string) => controller.join(key, share))
  return (
    <div className="action">
      <button
        type="button"
        className="primary"
        disabled={state.pending}
        aria-label={`Join ${project.name}`}
        onClick={() => void join(project.key)}
      >
        {state.pending ? 'Joining…' : 'Join'}
      </button>
      {state.error ? <ErrorNote error={state.error} /> : null}
    </div>
  )
}

/** Add a project by key or tandem:// link; validated as typed, the node checks it again. */
export function AddProjectForm({ onJoined }: { onJoined?: (key: string) => void }) {
  const controller = useController()
  const id = useId()
  const [text, setText] = useState('')
  const [touched, setTouched] = useState(false)
  const [joined, setJoined] = useState<string | null>(null)
  const ref = parseProjectRef(text)
  const [join, state] = useAction(async (key: string) => {
    const joinedKey = await controller.join(key)
    const name = controller.store.get().projects?.find((p) => p.key === joinedKey)?.name
    setJoined(name ?? shortKey(joinedKey))
    setText('')
    setTouched(false)
    onJoined?.(joinedKey)
  })
  const showInvalid = touched && !ref.ok && text.trim() !== ''

  const submit = (e: FormEvent) => {
    e.preventDefault()
    setTouched(true)
    setJoined(null)
    if (ref.ok) void join(ref.key)
  }

  return (
    <form className="add-project" onSubmit={submit} data-testid="add-project" noValidate>
      <label htmlFor={`${id}-ref`}>Project key or link</label>
      <div className="inline">
        <input
          id={`${id}-ref`}
          type="text"
          value={text}
          spellCheck={false}
          autoComplete="off"
          placeholder="tandem://project/…"
          aria-invalid={showInvalid}
          aria-describedby={showInvalid ? `${id}-err` : undefined}
          onChange={(e) => {
            setText(e.target.value)
            setTouched(true)
          }}
        />
        <button type="submit" disabled={state.pending}>
          {state.pending ? 'Adding…' : 'Add project'}
        </button>
      </div>
      {showInvalid && !ref.ok ? (
        <p className="field-error" id={`${id}-err`} data-testid="field-error">
          {ref.message}
        </p>
      ) : null}
      {state.error ? <ErrorNote error={state.error} /> : null}
      {joined && state.done ? (
        <p className="ok" data-testid="join-ok">
          Joined {joined}.
        </p>
      ) : null}
    </form>
  )
}
