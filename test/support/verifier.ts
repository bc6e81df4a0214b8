/**
 * A fresh verifier for a test's project: its own corestore, linked to the host's and the given
 * contributors' stores (so it replicates what they hold), with the project's ledger and dataset
 * opened from it, as `tandem verify` on another machine would.
 */
import type { TestContext } from 'node:test'
import { Dataset } from '../../core/data/dataset.js'
import { verifyLedger } from '../../core/host/verify.js'
import { defer, linkStores, plainCorestore } from './data.js'
import type { TestHost } from './host-fixtures.js'

export async function verifierStore(
  t: TestContext,
  h: TestHost,
  holders: { store: Parameters<typeof linkStores>[2] }[],
) {
  const store = await plainCorestore(t)
  linkStores(t, store, h.store)
  for (const c of holders) linkStores(t, store, c.store)
  const ledger = store.get({ key: Buffer.from(h.project, 'hex') })
  defer(t, () => ledger.close())
  const dataset = await Dataset.open(
    store.get({ key: Buffer.from(h.ledger.manifest.dataset.key, 'hex') }),
    { timeoutMs: 10_000 },
  )
  defer(t, () => dataset.close())
  return { store, ledger, dataset }
}

/** verifyLedger from a fresh verifier store. */
export async function verifyFresh(
  t: TestContext,
  h: TestHost,
  holders: { store: Parameters<typeof linkStores>[2] }[],
) {
  const { store, ledger, dataset } = await verifierStore(t, h, holders)
  return verifyLedger({ ledger, store, dataset, timeoutMs: 10_000 })
}
