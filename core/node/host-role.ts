/**
 * The host role on a contributor node: a ProjectHost for a project whose ledger this identity
 * writes, run by the node (tandem daemon with a hosted project). The node only logs the host's
 * rounds and stops it first on close; the host itself is core/host/. docs/host.md.
 */
import type { Logger } from 'pino'
import type { ProjectHost } from '../host/host.js'

/** Logs the host's rounds (opened, closed with their loss) and warnings under `log`. */
export function logHostEvents(host: ProjectHost, log: Logger): void {
  host.on('round-open', (e) =>
    log.info(
      `round ${e.round} open until ${new Date(e.deadline).toISOString()}${e.resumed ? ' (resumed)' : ''}`,
    ),
  )
  host.on('round-closed', (e) =>
    log.info(
      `round ${e.round} closed: ${e.accepted} accepted, ${e.rejected} rejected, loss ${e.lossBefore.toFixed(4)} → ${e.lossAfter.toFixed(4)}`,
    ),
  )
  host.on('warning', (err) => log.warn(String(err)))
}
