/**
 * A tiny external store: one immutable state value, replaced by pure updates, read by React through
 * useSyncExternalStore. Enough for one window's worth of node state; no library needed.
 */
import { useSyncExternalStore } from 'react'

export interface Store<S> {
  get(): S
  update(change: (state: S) => S): void
  subscribe(listener: () => void): () => void
}

export function createStore<S>(initial: S): Store<S> {
  let state = initial
  const listeners = new Set<() => void>()
  return {
    get: () => state,
    update(change) {
      const next = change(state)
      if (next === state) return
      state = next
      for (const listener of [...listeners]) listener()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** Re-renders when the selected slice changes (by identity): select parts, never build objects. */
export function useSelector<S, T>(store: Store<S>, select: (state: S) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()))
}
