/**
 * What a started Participant holds open, in one object: the project ledger it follows, the dataset
 * it trains on and its own update core, plus what rides along with them from round to round (the
 * error-feedback residual, the disk budget's shard cache). openRunning() waits for the ledger and
 * the dataset header as long as it takes; stop() aborts it, and then it closes whatever it had
 * opened and yields null, so the participant never holds half of these. docs/node.md, "Participant".
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { isTandemError } from '../../api/errors.js'
import { Dataset } from '../../data/dataset.js'
import type { DiskCap } from '../../data/disk-cap.js'
import { ErrorFeedback } from '../../engine/compress/error-feedback.js'
import type { HeldCheckpoint } from '../../ledger/checkpoint-chain.js'
import { openContributorUpdateCore } from '../../ledger/update-core.js'
import { effectiveManifest } from '../../ledger/governance.js'
import { readLedger, type LedgerState } from '../../ledger/reader.js'
import { lastUpdateHeader } from '../../ledger/updates.js'
import type { ParticipantFiles } from './files.js'
import type { SetState } from './types.js'

export interface Running {
  readonly ledgerCore: Hypercore
  /** The dataset of the round last trained (round-inputs.ts switches it after an amendment). */
  dataset: Dataset
  /** Opens another dataset of the store, waiting for peers up to the data timeout. */
  readonly openDataset: (key: string) => Promise<Dataset>
  readonly updateCore: Hypercore
  /** The error feedback carried from update to update; null until the first (or a saved one). */
  feedback: ErrorFeedback | null
  /** The sampler's disk budget (it remembers which shards were used last). */
  diskCap: DiskCap | null
  /** The last checkpoint trained from (outer-update projects: checkpoint-sync.ts). */
  checkpoint: HeldCheckpoint | null
  /** Stops reporting the ledger's appends. */
  readonly unfollow: () => void
}

export interface OpenOptions {
  store: Corestore
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  project: Buffer
  ledgerTimeoutMs: number
  dataTimeoutMs: number
  /** stop(): the waits end, what was opened is closed, and openRunning resolves null. */
  signal: AbortSignal
  setState: SetState
  /** Why a wait is retrying, for status() (no state event). */
  setDetail: (detail: string) => void
  /** The ledger as first read: the participant follows it from here. */
  onLedger: (state: LedgerState) => void
  /** The ledger core grew. */
  onAppend: () => void
  onWarning: (err: unknown) => void
}

/** The ledger, waiting for peers up to `timeoutMs` for blocks not here yet. */
export async function readFollowed(core: Hypercore, timeoutMs: number): Promise<LedgerState> {
  // An empty core has not heard from a peer yet: ask for its length first. A failed update is
  // safe to drop, because readLedger waits for the blocks itself and says LEDGER_UNAVAILABLE.
  if (core.length === 0) await core.update({ wait: true }).catch(() => false)
  return readLedger(core, { wait: true, timeout: timeoutMs })
}

/** Retries `fn` (1 s apart) while it fails with a TandemError; null once aborted. */
async function untilAborted<T>(o: OpenOptions, fn: () => Promise<T>): Promise<T | null> {
  for (;;) {
    if (o.signal.aborted) return null
    try {
      return await fn()
    } catch (err) {
      if (o.signal.aborted) return null
      if (!isTandemError(err)) throw err
      o.setDetail(err.message)
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
}

export async function openRunning(o: OpenOptions): Promise<Running | null> {
  const { store, signal } = o
  const ledgerCore = store.get({ key: o.project })
  let dataCore: Hypercore | null = null
  let dataset: Dataset | null = null
  let updateCore: Hypercore | null = null
  // Closing the cores ends the reads still waiting for peers.
  const onAbort = () => {
    void ledgerCore.close().catch(o.onWarning)
    void dataCore?.close().catch(o.onWarning)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  const unfollow = () => ledgerCore.off('append', o.onAppend)
  const abandon = async () => {
    unfollow()
    await ledgerCore.close().catch(o.onWarning)
    await dataset?.close().catch(o.onWarning)
    await updateCore?.close().catch(o.onWarning)
    return null
  }
  try {
    await ledgerCore.ready()
    ledgerCore.on('append', o.onAppend)
    o.setState('waiting-ledger', 'looking for the project ledger')
    const ledger = await untilAborted(o, () => readFollowed(ledgerCore, o.ledgerTimeoutMs))
    if (!ledger) return await abandon()
    o.onLedger(ledger)
    // The dataset in effect in the ledger's current round (a dataset amendment may have moved it).
    const key = effectiveManifest(ledger, ledger.rounds.length - 1).dataset.key
    o.setState('waiting-data', `opening dataset ${key.slice(0, 8)}…`)
    dataset = await untilAborted(o, () => {
      // Dataset.open closes the core when it fails, so each try takes a new one.
      dataCore = store.get({ key: Buffer.from(key, 'hex') })
      return Dataset.open(dataCore, { timeoutMs: o.dataTimeoutMs })
    })
    dataCore = null
    if (!dataset) return await abandon()
    updateCore = await openContributorUpdateCore(store, o.keyPair, o.project)
    if (signal.aborted) return await abandon()
    const openDataset = (k: string) =>
      Dataset.open(store.get({ key: Buffer.from(k, 'hex') }), { timeoutMs: o.dataTimeoutMs })
    return {
      ledgerCore,
      dataset,
      openDataset,
      updateCore,
      feedback: null,
      diskCap: null,
      checkpoint: null,
      unfollow,
    }
  } catch (err) {
    await abandon()
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * The first half of closing: without the ledger and the dataset, reads still waiting for peers end
 * and a round in training winds down.
 */
export async function closeReads(r: Running, onWarning: (err: unknown) => void): Promise<void> {
  r.unfollow()
  await r.ledgerCore.close().catch(onWarning)
  await r.dataset.close().catch(onWarning)
}

/** The second half, once nothing trains: nothing will be published any more. */
export async function closeUpdates(r: Running, onWarning: (err: unknown) => void): Promise<void> {
  await r.updateCore.close().catch(onWarning)
}

/**
 * The residual saved by an earlier run, if it follows the last update in our core and fits a model
 * of `n` parameters; otherwise null (start from zero) with a warning saying why.
 */
export async function loadFeedback(
  files: ParticipantFiles | null,
  updateCore: Hypercore,
  n: number,
  onWarning: (err: unknown) => void,
): Promise<ErrorFeedback | null> {
  if (!files) return null
  try {
    const last = await lastUpdateHeader(updateCore)
    const residual = await files.readResidual(n, last?.header.hash)
    return residual ? new ErrorFeedback(n, residual) : null
  } catch (err) {
    onWarning(err)
    return null
  }
}
