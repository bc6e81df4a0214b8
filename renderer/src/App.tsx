import { useEffect, useRef, type MouseEvent, type ReactNode } from 'react'
import { Header, LinkBanner } from './components/Header'
import { Nav } from './components/Nav'
import { ActivityPage } from './pages/Activity'
import { CreditsPage } from './pages/Credits'
import { DashboardPage } from './pages/Dashboard'
import { ProjectsPage } from './pages/Projects'
import { SettingsPage } from './pages/Settings'
import { usePage, type PageId } from './router'
import { useAppState, useController } from './state/context'

const pages: Record<PageId, () => ReactNode> = {
  dashboard: DashboardPage,
  projects: ProjectsPage,
  credits: CreditsPage,
  settings: SettingsPage,
  activity: ActivityPage,
}

export function App() {
  const controller = useController()
  const link = useAppState((s) => s.link)
  const loaded = useAppState((s) => s.loadedGeneration)
  const page = usePage()
  const main = useRef<HTMLElement>(null)
  const firstPage = useRef(page)

  // After navigating (not on first load), move focus to the new page's heading.
  useEffect(() => {
    if (page === firstPage.current) return
    firstPage.current = page
    main.current?.querySelector<HTMLElement>('h2')?.focus()
  }, [page])

  const Current = pages[page]
  return (
    // data-loaded counts finished initial loads (one per (re)connection): tests wait on it.
    <div className="app" data-loaded={loaded}>
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <Header link={link} />
      {link === null ? (
        <main className="app-main solo" id="main" tabIndex={-1}>
          <NotConnected />
        </main>
      ) : (
        <div className="app-body">
          <Nav page={page} />
          <main className="app-main" id="main" tabIndex={-1} ref={main}>
            <LinkBanner link={link} onRetry={() => controller.retryNow()} />
            <Current />
          </main>
        </div>
      )}
    </div>
  )
}

/** The skip link must not change the fragment: that is where the page name lives. */
function skipToMain(e: MouseEvent) {
  e.preventDefault()
  document.getElementById('main')?.focus()
}

function NotConnected() {
  return (
    <section aria-labelledby="no-node-title" className="panel" data-page="none">
      <h2 id="no-node-title">Not connected to a Tandem node</h2>
      <p>
        Open this page from the Tandem desktop app, or start a headless node with{' '}
        <code>tandem daemon</code> and open the link it prints (it carries this page’s access
        token).
      </p>
    </section>
  )
}
