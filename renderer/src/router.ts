/**
 * Pages live in the address fragment (#/projects), so reloads and the back button keep their place
 * both in a browser and in Electron (a fragment change is not a navigation there either).
 */
import { useSyncExternalStore } from 'react'

export const PAGES = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'projects', label: 'Projects' },
  { id: 'credits', label: 'Credits' },
  { id: 'settings', label: 'Settings' },
  { id: 'activity', label: 'Activity' },
] as const

export type PageId = (typeof PAGES)[number]['id']

export const hrefFor = (page: PageId): string => `#/${page}`

function current(): PageId {
  const id = /^#\/([a-z]+)/.exec(window.location.hash)?.[1]
  return PAGES.find((p) => p.id === id)?.id ?? 'dashboard'
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener)
  return () => window.removeEventListener('hashchange', listener)
}

export function usePage(): PageId {
  return useSyncExternalStore(subscribe, current)
}

export function goTo(page: PageId): void {
  window.location.hash = hrefFor(page)
}
