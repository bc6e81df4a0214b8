/**
 * Errors as the user sees them: always a code and a message. Codes come from the node (TandemError,
 * via the contract's Outcome) or from this page (the link to the node is down).
 */
import { TandemError } from '../../core/api/errors'
import { LinkError } from './connection'

export interface UiError {
  code: string
  message: string
}

export function toUiError(err: unknown): UiError {
  if (err instanceof TandemError || err instanceof LinkError)
    return { code: err.code, message: err.message }
  if (err instanceof Error) return { code: 'UI_ERROR', message: err.message }
  return { code: 'UI_ERROR', message: String(err) }
}

/** One line of advice for codes a contributor can act on; the rest show code and message only. */
const hints: Record<string, string> = {
  NOT_CONNECTED: 'The page will reconnect by itself when the node is back.',
  UNKNOWN_METHOD: 'This node does not offer that yet; it may be an older version.',
  UNAUTHORIZED: 'Open the link that `tandem daemon` printed again: it carries a fresh token.',
  BAD_ARGUMENT: 'Check the value you entered.',
  SETTINGS_INVALID: 'Check the value you entered.',
  PROJECT_NOT_FOUND: 'Check the project key or link; the project may also be offline.',
  PROJECT_INVALID: 'The project’s manifest is not valid; ask its host.',
  LEDGER_UNAVAILABLE: 'No peer holding this ledger is online right now.',
  DATASET_DISK_CAP: 'Raise the disk budget in Settings, or leave a project.',
  ENGINE_BACKEND_UNAVAILABLE: 'Choose another backend in Settings.',
  ENGINE_OUT_OF_MEMORY: 'Close other programs, or lower the threads in Settings.',
}

export function errorHint(code: string): string | undefined {
  return hints[code]
}
