import { hrefFor, PAGES, type PageId } from '../router'

/** Plain links: Tab reaches each one, Enter follows it, and the current one is announced. */
export function Nav({ page }: { page: PageId }) {
  return (
    <nav className="sidebar" aria-label="Main">
      <ul>
        {PAGES.map((p) => (
          <li key={p.id}>
            <a
              href={hrefFor(p.id)}
              aria-current={p.id === page ? 'page' : undefined}
              data-testid={`nav-${p.id}`}
            >
              {p.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}
