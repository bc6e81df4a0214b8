/** One receipt in full, in a modal dialog (Esc or the button closes it; focus returns). */
import { useEffect, useRef } from 'react'
import type { ReceiptView } from '../../../core/api/contract'
import { formatDateTime, formatLoss, formatNumber, formatPercent, lossChange } from '../format'
import { Facts } from './Facts'

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
      <Facts
        rows={[
          ['Closed', formatDateTime(r.closedAt)],
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
