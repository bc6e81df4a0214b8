import { useEffect, useState } from 'react'
import type { LinkState } from '../connection'
import { setThemeChoice, useThemeChoice, type ThemeChoice } from '../theme'

export function linkLabel(link: LinkState | null): string {
  switch (link?.kind) {
    case undefined:
      return 'No node'
    case 'connecting':
      return link.attempt > 0 ? 'Reconnecting…' : 'Connecting…'
    case 'open':
      return 'Connected'
    case 'closed':
      return 'Disconnected'
    case 'rejected':
      return 'Access refused'
  }
}

export function Header({ link }: { link: LinkState | null }) {
  return (
    <header className="app-header">
      <h1>Tandem</h1>
      <div className="header-tools">
        <ThemeSelect />
        {/* The only role=status on the page: the link to the node. */}
        <span
          className={`node-badge link-${link?.kind ?? 'none'}`}
          role="status"
          aria-live="polite"
          data-testid="node-state"
          data-link={link?.kind ?? 'none'}
        >
          {linkLabel(link)}
        </span>
      </div>
    </header>
  )
}

function ThemeSelect() {
  const choice = useThemeChoice()
  return (
    <label className="theme-select">
      <span>Theme</span>
      <select
        value={choice}
        data-testid="theme-choice"
        onChange={(e) => setThemeChoice(e.target.value as ThemeChoice)}
      >
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  )
}

/** Shown across the top while the link is down; the data below stays, marked as stale. */
export function LinkBanner({ link, onRetry }: { link: LinkState; onRetry: () => void }) {
  const now = useNow(link.kind === 'closed')
  if (link.kind === 'closed') {
    const wait = Math.max(0, Math.ceil((link.retryAt - now) / 1000))
    return (
      <div
        className="banner banner-bad"
        data-testid="disconnected-banner"
        data-retry-at={link.retryAt}
      >
        <span>
          <strong>Disconnected from the node.</strong> {link.reason}.{' '}
          {wait > 0 ? `Retrying in ${wait} s.` : 'Retrying…'} What you see may be out of date.
        </span>
        <button type="button" onClick={onRetry}>
          Retry now
        </button>
      </div>
    )
  }
  if (link.kind === 'connecting' && link.attempt > 0) {
    // Between retries the banner stays up, so it does not flicker with every attempt.
    return (
      <div className="banner banner-bad" data-testid="disconnected-banner">
        <span>
          <strong>Disconnected from the node.</strong> Reconnecting… What you see may be out of
          date.
        </span>
      </div>
    )
  }
  if (link.kind === 'rejected') {
    return (
      <div className="banner banner-bad" data-testid="rejected-banner">
        <strong>The node refused this page.</strong> {link.reason}. Open the link that{' '}
        <code>tandem daemon</code> printed (it carries a fresh access token).
      </div>
    )
  }
  return null
}

function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!ticking) return
    const timer = setInterval(() => setNow(Date.now()), 500)
    return () => clearInterval(timer)
  }, [ticking])
  return now
}
