/** Every Settings field of the contract, validated as typed and applied live. */
import { useId } from 'react'
import { BackendChoice, type ScheduleWindow, type Settings } from '../../../core/api/contract'
import { ErrorNote, Pending } from '../components/ErrorNote'
import { Card, Page } from '../components/Page'
import { useAppState } from '../state/context'
import {
  CheckboxSetting,
  checkSetting,
  issueAt,
  NumberSetting,
  SelectSetting,
  useSetting,
} from './settings-fields'

const backendLabels: Record<string, string> = {
  auto: 'Automatic (fastest that works)',
  'tfjs-node-gpu': 'CUDA GPU (tfjs-node-gpu)',
  webgpu: 'WebGPU',
  'tfjs-node': 'Native CPU (tfjs-node)',
  wasm: 'WebAssembly CPU',
  cpu: 'Plain JavaScript CPU (slowest)',
}

export function SettingsPage() {
  const loaded = useAppState((s) => s.settings !== null)
  const failure = useAppState((s) => s.failures.settings)
  return (
    <Page id="settings" title="Settings">
      {!loaded ? (
        <Pending error={failure} what="settings" />
      ) : (
        <form className="settings" onSubmit={(e) => e.preventDefault()} noValidate>
          <p className="muted">Changes apply as you make them.</p>
          <Card id="when" title="When to run">
            <CheckboxSetting
              k="runWhenIdleOnly"
              label="Only while I am away from the computer"
              help="Headless nodes ignore this: they cannot see keyboard and mouse."
            />
            <NumberSetting
              k="idleMinutes"
              label="Away after"
              unit="minutes"
              help="Minutes without input before the computer counts as idle (1–240)."
            />
            <CheckboxSetting k="pauseOnBattery" label="Pause while on battery" />
            <CheckboxSetting k="startAtLogin" label="Start Tandem when I log in" />
            <ScheduleEditor />
          </Card>
          <Card id="compute" title="Compute">
            <CheckboxSetting k="useGpu" label="Use the GPU" />
            <SelectSetting
              k="backend"
              label="Backend"
              options={BackendChoice.options.map((value) => ({
                value,
                label: backendLabels[value] ?? value,
              }))}
            />
            <NumberSetting k="maxThreads" label="CPU threads" help="At most 256." />
            <NumberSetting
              k="dutyCycle"
              label="Duty cycle"
              step={0.05}
              help="Share of time spent computing, from 0.05 to 1: lower keeps the fans quieter."
            />
          </Card>
          <Card id="network" title="Network and disk">
            <NumberSetting
              k="uploadKiBps"
              label="Upload limit"
              unit="KiB/s"
              help="0 means no limit."
            />
            <NumberSetting
              k="downloadKiBps"
              label="Download limit"
              unit="KiB/s"
              help="0 means no limit."
            />
            <NumberSetting
              k="diskCapMiB"
              label="Disk budget per project"
              unit="MiB"
              help="At least 64 MiB."
            />
          </Card>
        </form>
      )}
    </Page>
  )
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

type Schedule = Settings['schedule']

function ScheduleEditor() {
  const id = useId()
  const field = useSetting(
    'schedule',
    (v) => v,
    (draft: Schedule) => checkSetting('schedule', draft),
  )
  const schedule = field.shown
  if (!schedule) return null
  const update = (next: Schedule, when: 'now' | 'soon' = 'now') => field.change(next, when)
  const setWindow = (i: number, patch: Partial<ScheduleWindow>, when: 'now' | 'soon') =>
    update(
      { ...schedule, windows: schedule.windows.map((w, n) => (n === i ? { ...w, ...patch } : w)) },
      when,
    )
  const listError = issueAt(field.issues, ['windows'])
  return (
    <fieldset className="schedule" data-testid="schedule-editor">
      <legend>Schedule</legend>
      <div className="field field-inline">
        <input
          id={`${id}-enabled`}
          type="checkbox"
          checked={schedule.enabled}
          onChange={(e) => update({ ...schedule, enabled: e.target.checked })}
        />
        <label htmlFor={`${id}-enabled`}>Only run inside these time windows</label>
      </div>
      <p className="help">
        Local time, 24-hour. An end of 00:00, or earlier than the start, means until midnight.
      </p>
      {schedule.windows.length === 0 ? <p className="muted">No windows yet.</p> : null}
      <ol className="windows">
        {schedule.windows.map((w, i) => {
          const startError = issueAt(field.issues, ['windows', i, 'start'])
          const endError = issueAt(field.issues, ['windows', i, 'end'])
          const rowId = `${id}-w${i}`
          return (
            <li key={i} className="window-row" data-testid="schedule-window">
              <label className="sr-only" htmlFor={`${rowId}-day`}>
                Window {i + 1} day
              </label>
              <select
                id={`${rowId}-day`}
                value={w.day}
                onChange={(e) => setWindow(i, { day: Number(e.target.value) }, 'now')}
              >
                {DAYS.map((name, day) => (
                  <option key={day} value={day}>
                    {name}
                  </option>
                ))}
              </select>
              <span aria-hidden="true">from</span>
              <input
                id={`${rowId}-start`}
                className="time"
                type="text"
                inputMode="numeric"
                placeholder="HH:MM"
                aria-label={`Window ${i + 1} start`}
                value={w.start}
                aria-invalid={startError !== undefined}
                aria-describedby={startError ? `${rowId}-start-err` : undefined}
                onChange={(e) => setWindow(i, { start: e.target.value }, 'soon')}
                onBlur={field.flush}
              />
              <span aria-hidden="true">to</span>
              <input
                id={`${rowId}-end`}
                className="time"
                type="text"
                inputMode="numeric"
                placeholder="HH:MM"
                aria-label={`Window ${i + 1} end`}
                value={w.end}
                aria-invalid={endError !== undefined}
                aria-describedby={endError ? `${rowId}-end-err` : undefined}
                onChange={(e) => setWindow(i, { end: e.target.value }, 'soon')}
                onBlur={field.flush}
              />
              <button
                type="button"
                aria-label={`Remove window ${i + 1}`}
                onClick={() =>
                  update({ ...schedule, windows: schedule.windows.filter((_, n) => n !== i) })
                }
              >
                Remove
              </button>
              {startError ? (
                <span
                  className="field-error"
                  id={`${rowId}-start-err`}
                  data-testid="error-schedule"
                >
                  Start: {startError}
                </span>
              ) : null}
              {endError ? (
                <span className="field-error" id={`${rowId}-end-err`} data-testid="error-schedule">
                  End: {endError}
                </span>
              ) : null}
            </li>
          )
        })}
      </ol>
      <button
        type="button"
        onClick={() =>
          update({
            ...schedule,
            windows: [...schedule.windows, { day: 6, start: '09:00', end: '17:00' }],
          })
        }
      >
        Add window
      </button>
      {listError ? (
        <span className="field-error" data-testid="error-schedule">
          {listError}
        </span>
      ) : null}
      {field.save.error ? <ErrorNote error={field.save.error} testId="save-error" /> : null}
      {field.save.done && !field.dirty ? (
        <span className="ok" data-testid="saved">
          Saved
        </span>
      ) : null}
    </fieldset>
  )
}
