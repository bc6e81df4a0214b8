/**
 * Light / dark: follows the system (prefers-color-scheme) unless the user picked one. The choice is
 * remembered per browser profile and applied as <html data-theme>, which the CSS keys off.
 */
import { useSyncExternalStore } from 'react'

export type ThemeChoice = 'system' | 'light' | 'dark'
export type Theme = 'light' | 'dark'

const KEY = 'tandem.theme'
const listeners = new Set<() => void>()
const media = window.matchMedia('(prefers-color-scheme: dark)')

function readChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(KEY)
    return stored === 'light' || stored === 'dark' ? stored : 'system'
  } catch {
    return 'system'
  }
}

let choice: ThemeChoice = readChoice()

function apply(): void {
  const root = document.documentElement
  if (choice === 'system') delete root.dataset['theme']
  else root.dataset['theme'] = choice
}
apply()

function notify(): void {
  for (const listener of [...listeners]) listener()
}
media.addEventListener('change', notify)

export function setThemeChoice(next: ThemeChoice): void {
  choice = next
  try {
    if (next === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, next)
  } catch {
    // Not remembered across reloads; still applied now.
  }
  apply()
  notify()
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function useThemeChoice(): ThemeChoice {
  return useSyncExternalStore(subscribe, () => choice)
}

/** The theme actually shown, for things CSS cannot colour (chart canvases). */
export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, () =>
    choice === 'system' ? (media.matches ? 'dark' : 'light') : choice,
  )
}
