import type { ReactNode } from 'react'

/** A definition list of label → value pairs; rows with an undefined value are left out. */
export function Facts({
  rows,
  testId,
}: {
  rows: Array<[label: string, value: ReactNode | undefined]>
  testId?: string
}) {
  return (
    <dl className="facts" data-testid={testId}>
      {rows
        .filter(([, value]) => value !== undefined)
        .map(([label, value]) => (
          <div className="fact" key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  )
}
