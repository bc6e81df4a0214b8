/**
 * One settings field: a local draft validated on every keystroke against the contract's
 * SettingsPatch schema, applied to the node with settings.set when valid (after a short pause in
 * typing, on blur, or at once for toggles). The node's value shows whenever there is no draft, so
 * changes made elsewhere (another window, the CLI) appear live.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { SettingsPatch, type Settings } from '../../../core/api/contract'
import { ErrorNote } from '../components/ErrorNote'
import { useAction, useAppState, useController, type ActionState } from '../state/context'

export type SettingKey = Exclude<keyof Settings, 'version'>

export interface Issue {
  /** Path inside the field's value ([] for the field itself). */
  path: PropertyKey[]
  message: string
}

type Checked = { ok: true; value: unknown } | { ok: false; issues: Issue[] }

/** The contract decides: the same schema the node applies to settings.set. */
export function checkSetting(key: SettingKey, value: unknown): Checked {
  const result = SettingsPatch.safeParse({ [key]: value })
  if (result.success) return { ok: true, value: result.data[key] }
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({ path: i.path.slice(1), message: i.message })),
  }
}

export interface FieldState<D> {
  shown: D | undefined
  issues: Issue[]
  save: ActionState
  dirty: boolean
  change(next: D, when?: 'now' | 'soon'): void
  /** Apply a pending change now (on blur). */
  flush(): void
}

const TYPING_PAUSE_MS = 600

export function useSetting<K extends SettingKey, D>(
  key: K,
  fromValue: (value: Settings[K]) => D,
  toValue: (draft: D) => Checked,
): FieldState<D> {
  const controller = useController()
  const server = useAppState((s) => (s.settings ? s.settings[key] : undefined))
  const [draft, setDraft] = useState<{ value: D; version: number } | null>(null)
  const version = useRef(0)
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null)
  const pending = useRef<(() => void) | null>(null)
  const [save, saveState] = useAction(async (value: unknown, v: number) => {
    await controller.setSettings({ [key]: value } as SettingsPatch)
    // Drop the draft only if nothing was typed since: then the node's value is what was typed.
    setDraft((d) => (d && d.version === v ? null : d))
  })

  const flush = () => {
    if (timer.current) clearTimeout(timer.current)
    timer.current = null
    const run = pending.current
    pending.current = null
    run?.()
  }

  // Leaving the page must not lose a valid change that was waiting for a typing pause.
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current)
      pending.current?.()
    },
    [],
  )

  const checked = draft ? toValue(draft.value) : null
  return {
    shown: draft ? draft.value : server === undefined ? undefined : fromValue(server),
    issues: checked && !checked.ok ? checked.issues : [],
    save: saveState,
    dirty: draft !== null,
    change(next, when = 'now') {
      const v = ++version.current
      setDraft({ value: next, version: v })
      if (timer.current) clearTimeout(timer.current)
      timer.current = null
      pending.current = null
      const result = toValue(next)
      if (!result.ok) return
      pending.current = () => void save(result.value, v)
      if (when === 'now') flush()
      else timer.current = setTimeout(flush, TYPING_PAUSE_MS)
    },
    flush,
  }
}

// ---------------------------------------------------------------------------------------------
// Field chrome: label, control, help, the validation message and the save state.

export function issueAt(issues: Issue[], path: PropertyKey[]): string | undefined {
  return issues.find((i) => i.path.length === path.length && i.path.every((p, n) => p === path[n]))
    ?.message
}

function SaveState({
  state,
  dirty,
  invalid,
}: {
  state: ActionState
  dirty: boolean
  invalid: boolean
}) {
  if (invalid) return null
  if (state.pending) return <span className="muted">Saving…</span>
  if (state.error) return <ErrorNote error={state.error} testId="save-error" />
  if (state.done && !dirty)
    return (
      <span className="ok" data-testid="saved">
        Saved
      </span>
    )
  return null
}

interface FieldProps {
  k: SettingKey
  label: string
  help?: ReactNode
}

function FieldFrame({
  k,
  label,
  help,
  field,
  control,
  inline,
}: FieldProps & {
  field: FieldState<unknown>
  control: (ids: { input: string; describedBy: string | undefined; invalid: boolean }) => ReactNode
  inline?: boolean
}) {
  const id = useId()
  const input = `${id}-input`
  const message = issueAt(field.issues, [])
  const describedBy =
    [help ? `${id}-help` : null, message ? `${id}-error` : null].filter(Boolean).join(' ') ||
    undefined
  return (
    <div className={`field ${inline ? 'field-inline' : ''}`} data-setting={k}>
      {inline ? null : <label htmlFor={input}>{label}</label>}
      {control({ input, describedBy, invalid: message !== undefined })}
      {inline ? <label htmlFor={input}>{label}</label> : null}
      {help ? (
        <span className="help" id={`${id}-help`}>
          {help}
        </span>
      ) : null}
      {message ? (
        <span className="field-error" id={`${id}-error`} data-testid={`error-${k}`}>
          {message}
        </span>
      ) : null}
      <SaveState state={field.save} dirty={field.dirty} invalid={field.issues.length > 0} />
    </div>
  )
}

const asIs = (value: unknown): Checked => ({ ok: true, value })

export function CheckboxSetting({ k, label, help }: FieldProps) {
  const field = useSetting(k, (v) => Boolean(v), asIs)
  return (
    <FieldFrame
      k={k}
      label={label}
      help={help}
      field={field as FieldState<unknown>}
      inline
      control={({ input, describedBy }) => (
        <input
          id={input}
          type="checkbox"
          checked={field.shown ?? false}
          disabled={field.shown === undefined}
          aria-describedby={describedBy}
          onChange={(e) => field.change(e.target.checked)}
        />
      )}
    />
  )
}

export function NumberSetting({
  k,
  label,
  help,
  step = 1,
  unit,
}: FieldProps & { step?: number; unit?: string }) {
  const field = useSetting(
    k,
    (v) => String(v),
    (draft: string): Checked => {
      if (draft.trim() === '')
        return { ok: false, issues: [{ path: [], message: 'Enter a value' }] }
      const n = Number(draft)
      if (!Number.isFinite(n))
        return { ok: false, issues: [{ path: [], message: 'Enter a number' }] }
      return checkSetting(k, n)
    },
  )
  return (
    <FieldFrame
      k={k}
      label={label}
      help={help}
      field={field as FieldState<unknown>}
      control={({ input, describedBy, invalid }) => (
        <span className="with-unit">
          <input
            id={input}
            type="text"
            inputMode={step < 1 ? 'decimal' : 'numeric'}
            value={field.shown ?? ''}
            disabled={field.shown === undefined}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            onChange={(e) => field.change(e.target.value, 'soon')}
            onBlur={field.flush}
            onKeyDown={(e) => {
              if (e.key === 'Enter') field.flush()
            }}
          />
          {unit ? <span className="unit">{unit}</span> : null}
        </span>
      )}
    />
  )
}

export function SelectSetting({
  k,
  label,
  help,
  options,
}: FieldProps & { options: Array<{ value: string; label: string }> }) {
  const field = useSetting(
    k,
    (v) => String(v),
    (draft: string) => checkSetting(k, draft),
  )
  return (
    <FieldFrame
      k={k}
      label={label}
      help={help}
      field={field as FieldState<unknown>}
      control={({ input, describedBy }) => (
        <select
          id={input}
          value={field.shown ?? ''}
          disabled={field.shown === undefined}
          aria-describedby={describedBy}
          onChange={(e) => field.change(e.target.value)}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  )
}
