/**
 * "Try it": prompt the project's current global model (language models only, `model.sample`).
 */
import { useId, useState } from 'react'
import type { ProjectSummary } from '../../../core/api/contract'
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
