/** React access to the one Controller: its store's state by selector, and actions with status. */
import {
  createContext,
  useCallback,
  useContext,
  useLayoutEffect,
  useRef,
  useState,
  type ReactNode,
} from 'react'
import { toUiError, type UiError } from '../errors'
import type { AppState } from './app-state'
import type { Controller } from './controller'
import { useSelector } from './store'

const ControllerContext = createContext<Controller | null>(null)

export function ControllerProvider({
  controller,
  children,
}: {
  controller: Controller
  children: ReactNode
}) {
  return <ControllerContext value={controller}>{children}</ControllerContext>
}

export function useController(): Controller {
  const controller = useContext(ControllerContext)
  if (!controller) throw new Error('useController outside ControllerProvider')
  return controller
}

export function useAppState<T>(select: (state: AppState) => T): T {
  return useSelector(useController().store, select)
}

export interface ActionState {
  pending: boolean
  error: UiError | null
  /** The last run finished without an error. */
  done: boolean
}

/**
 * Runs an async action for one control, keeping its pending / error / done state. A newer run
 * supersedes an older one's result, so a slow early failure cannot overwrite a later success.
 */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
): [(...args: A) => Promise<boolean>, ActionState, () => void] {
  const [state, setState] = useState<ActionState>({ pending: false, error: null, done: false })
  const latest = useRef(0)
  // run() stays the same function across renders (safe in effect deps) yet calls the newest action.
  const current = useRef(action)
  useLayoutEffect(() => {
    current.current = action
  })
  const run = useCallback(async (...args: A) => {
    const ticket = ++latest.current
    setState({ pending: true, error: null, done: false })
    try {
      await current.current(...args)
      if (ticket === latest.current) setState({ pending: false, error: null, done: true })
      return true
    } catch (err) {
      if (ticket === latest.current)
        setState({ pending: false, error: toUiError(err), done: false })
      return false
    }
  }, [])
  const reset = useCallback(() => {
    latest.current++
    setState({ pending: false, error: null, done: false })
  }, [])
  return [run, state, reset]
}
