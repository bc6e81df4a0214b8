/** One receipt in full, in a modal dialog (Esc or the button closes it; focus returns). */
import { useEffect, useRef, type ReactNode } from 'react'
import type { ReceiptView } from '../../../core/api/contract'
import { formatDateTime, formatLoss, formatNumber, formatPercent, lossChange } from '../format'
import { Facts } from './Facts'

type Row = [string, ReactNode]

const at = (ms: number) => formatDateTime(ms, { seconds: true })

/** When the offer was sent (our clock), received (the host's) and due, where the receipt says. */
function timing(r: ReceiptView): Row[] {
  const rows: Row[] = []
  if (r.offeredAt !== undefined) rows.push(['Sent (this computer)', at(r.offeredAt)])
  if (r.receivedAt !== undefined) rows.push(['Received (host)', at(r.receivedAt)])
  if (r.deadline !== undefined) rows.push(['Deadline', at(r.deadline)])
  return rows
}

/** Rejected as late although this computer sent it before the deadline (by its own clock). */
function disputedLate(r: ReceiptView): boolean {
  return (
    r.reason === 'late' &&
    r.offeredAt !== undefined &&
    r.deadline !== undefined &&
    r.receivedAt !== undefined &&
    r.offeredAt <= r.deadline
  )
}

export function ReceiptDialog({
  receipt: r,
  onClose,
}: {
  receipt: ReceiptView
  onClose: () => void
}) {
  const dialog = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const el = dialog.current
    if (!el) return
    const opener = document.activeElement as HTMLElement | null
    el.showModal()
    return () => {
      el.close()
      opener?.focus()
    }
  }, [])
  return (
    <dialog
      ref={dialog}
      className="receipt-dialog"
      aria-labelledby="receipt-title"
      data-testid="receipt-detail"
      onCancel={(e) => {
        // Esc: let React unmount the dialog instead of the browser closing it under React.
        e.preventDefault()
        onClose()
      }}
    >
      <h3 id="receipt-title">
        {r.projectName}, round {r.round}
      </h3>
      <p className={r.accepted ? 'verdict ok' : 'verdict bad'} data-testid="receipt-verdict">
        {r.accepted ? 'Accepted' : `Rejected: ${r.reason ?? 'no reason given'}`}
      </p>
      {disputedLate(r) ? (
        <p className="verdict-note" data-testid="late-dispute">
          This computer sent the update at {at(r.offeredAt!)}, before the deadline of{' '}
          {at(r.deadline!)}; the host recorded its arrival at {at(r.receivedAt!)}. Clocks can differ
          by a few seconds; a larger gap is worth raising with the project.
        </p>
      ) : null}
      <Facts
        rows={[
          ['Closed', formatDateTime(r.closedAt)],
          ...timing(r),
          ['Credits', formatNumber(r.credits)],
          ['Samples trained', formatNumber(r.samples)],
          ['Quality', formatPercent(r.quality)],
          ['Loss before', formatLoss(r.lossBefore)],
          ['Loss after', formatLoss(r.lossAfter)],
          ['Loss change', lossChange(r.lossBefore, r.lossAfter)],
          ['Update hash', <code className="key">{r.updateHash}</code>],
          ['Project key', <code className="key">{r.project}</code>],
        ]}
      />
      <div className="dialog-actions">
        <button type="button" className="primary" autoFocus onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  )
}
