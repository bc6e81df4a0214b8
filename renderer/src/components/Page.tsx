import type { ReactNode } from 'react'
import type { PageId } from '../router'

/** One page: its h2 takes focus after navigation, so keyboard and screen-reader users land there. */
export function Page({
  id,
  title,
  actions,
  children,
}: {
  id: PageId
  title: string
  actions?: ReactNode
  children: ReactNode
}) {
  return (
    <section className="page" data-page={id} aria-labelledby={`${id}-title`}>
      <div className="page-head">
        <h2 id={`${id}-title`} tabIndex={-1}>
          {title}
        </h2>
        {actions}
      </div>
      {children}
    </section>
  )
}

export function Card({
  title,
  id,
  children,
  actions,
  className,
  testId,
}: {
  title: string
  id: string
  children: ReactNode
  actions?: ReactNode
  className?: string
  testId?: string
}) {
  return (
    <section
      className={`card ${className ?? ''}`}
      aria-labelledby={`${id}-title`}
      data-testid={testId}
    >
      <div className="card-head">
        <h3 id={`${id}-title`}>{title}</h3>
        {actions}
      </div>
      {children}
    </section>
  )
}
