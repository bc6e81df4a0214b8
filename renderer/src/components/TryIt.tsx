/**
 * "Try it": prompt the project's current global model (language models only, `model.sample`).
 * ModelDownload: the verified checkpoint as safetensors + model card (`model.export`), saved by
 * the node in its exports folder when the charter allows this node to download it.
 */
import { useId, useState } from 'react'
import type { ModelExport, ProjectSummary } from '../../../core/api/contract'
import { useAction, useController } from '../state/context'
import { ErrorNote } from './ErrorNote'

export function TryItBox({ project: p }: { project: ProjectSummary }) {
  const controller = useController()
  const id = useId()
  const [prompt, setPrompt] = useState('')
  const [answer, setAnswer] = useState<{ round: number; text: string } | null>(null)
  const [run, state] = useAction(async () => {
    setAnswer(await controller.call('model.sample', { project: p.key, prompt, length: 120 }))
  })
  return (
    <section className="try-it" aria-label="Try the model" data-testid="try-it">
      <h4>Try it</h4>
      <label htmlFor={id}>Prompt</label>
      <input id={id} value={prompt} maxLength={256} onChange={(e) => setPrompt(e.target.value)} />
      <button type="button" disabled={state.pending} onClick={() => void run()}>
        Generate
      </button>
      {state.error ? <ErrorNote error={state.error} /> : null}
      {answer ? (
        <pre data-testid="try-it-output" data-round={answer.round}>
          {answer.text}
        </pre>
      ) : null}
    </section>
  )
}

export function ModelDownload({ project: p }: { project: ProjectSummary }) {
  const controller = useController()
  const [saved, setSaved] = useState<ModelExport | null>(null)
  const [save, state] = useAction(async () => {
    setSaved(await controller.call('model.export', { project: p.key }))
  })
  return (
    <section
      className="model-download"
      aria-label="Download the model"
      data-testid="model-download"
    >
      <h4>The trained model</h4>
      <button type="button" disabled={state.pending} onClick={() => void save()}>
        {state.pending ? 'Verifying and saving…' : 'Save the model (safetensors)'}
      </button>
      {state.error ? <ErrorNote error={state.error} /> : null}
      {saved ? (
        <p data-testid="model-saved" data-verified={String(saved.verified)}>
          Round {saved.round} saved to <code>{saved.path}</code> (
          {saved.verified ? 'verified' : 'not verified'}); model card: <code>{saved.cardPath}</code>
        </p>
      ) : null}
    </section>
  )
}
