import { errorHint, type UiError } from '../errors'

/** A coded error as the user sees it: the code (what to search for or report) and the message. */
export function ErrorNote({ error, testId = 'error' }: { error: UiError; testId?: string }) {
  const hint = errorHint(error.code)
  return (
    <div className="error-note" role="alert" data-testid={testId} data-code={error.code}>
      <code className="error-code">{error.code}</code> <span>{error.message}</span>
      {hint ? <div className="hint">{hint}</div> : null}
    </div>
  )
}

/** A failed load of some resource, or a placeholder while it is still on its way. */
export function Pending({ error, what }: { error: UiError | undefined; what: string }) {
  if (error) return <ErrorNote error={error} testId={`load-error`} />
  return (
    <p className="muted" data-testid="loading">
      Loading {what}…
    </p>
  )
}
