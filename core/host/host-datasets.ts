/**
 * The datasets a host scores rounds on (and `tandem verify` replays them on), across dataset and
 * model amendments (docs/governance.md, "Dataset and model amendments"). The validation batch of
 * a round is a function of the dataset and the model in effect in it (validation.ts), so it is built once per pair; a dataset named by an
 * amendment is opened from the node's store (waiting for peers if it is not local), announced on
 * its topic so contributors can fetch it, and kept open until the host stops. The same place checks
 * a proposed dataset or model against what it would run with, so the host never puts a change to
 * the vote that it could not enact.
 */
import type Corestore from 'corestore'
import { isTandemError, TandemError } from '../api/errors.js'
import { Dataset } from '../data/dataset.js'
import type { Batch } from '../engine/batch.js'
import type { Change } from '../ledger/amendments.js'
import type { Manifest } from '../ledger/manifest.js'
import type { SwarmNode } from '../net/swarm-node.js'
import { roundValidationBatch } from './validation.js'

export interface HostDatasetsOptions {
  store: Corestore
  /** Announces the datasets it opens (absent: a one-off check, e.g. `tandem project propose`). */
  node?: SwarmNode
  /** The project's own dataset, opened by the caller (and closed by it). */
  base: Dataset
  /** ms to wait for a dataset's blocks from peers. */
  timeoutMs?: number
}

export class HostDatasets {
  private readonly opened = new Map<string, Promise<Dataset>>()
  private readonly batches = new Map<string, Promise<Batch>>()

  constructor(private readonly opts: HostDatasetsOptions) {}

  /** The dataset with this key: the base one, or opened (once) from the store and announced. */
  dataset(key: string): Promise<Dataset> {
    if (key === this.opts.base.keyHex) return Promise.resolve(this.opts.base)
    let d = this.opened.get(key)
    if (!d) {
      d = Dataset.open(this.opts.store.get({ key: Buffer.from(key, 'hex') }), {
        timeoutMs: this.opts.timeoutMs ?? 60_000,
      })
      this.opened.set(key, d)
      d.then(
        (ds) => void this.opts.node?.joinDataset(ds.key),
        () => this.opened.delete(key), // a later call tries again
      )
    }
    return d
  }

  /** The validation batch of rounds run under `manifest` (its dataset and model). */
  validation(manifest: Pick<Manifest, 'dataset' | 'model'>): Promise<Batch> {
    const id = `${manifest.dataset.key}\0${JSON.stringify(manifest.model)}`
    let b = this.batches.get(id)
    if (!b) {
      b = this.dataset(manifest.dataset.key).then((ds) =>
        roundValidationBatch(ds, manifest, { timeoutMs: this.opts.timeoutMs ?? 60_000 }),
      )
      this.batches.set(id, b)
      b.catch(() => this.batches.delete(id))
    }
    return b
  }

  /**
   * Whether the host can run `change` from the manifest `m` in effect: a dataset must open, match
   * its pinned content hash and fit the model; a model must fit the dataset. BAD_ARGUMENT saying
   * why not; nothing for other kinds.
   */
  async check(m: Manifest, change: Change): Promise<void> {
    if (change.kind !== 'dataset' && change.kind !== 'model') return
    const refuse = (why: string): never => {
      throw new TandemError('BAD_ARGUMENT', `cannot propose this change: ${why}`)
    }
    const next =
      change.kind === 'dataset'
        ? { dataset: { key: change.dataset.key }, model: m.model }
        : { dataset: m.dataset, model: change.model }
    try {
      const ds = await this.dataset(next.dataset.key)
      if (change.kind === 'dataset' && change.dataset.contentHash !== undefined) {
        if (ds.header.contentHash !== change.dataset.contentHash)
          refuse(`dataset ${change.dataset.key.slice(0, 12)}… has other content than pinned`)
      }
      await this.validation(next)
    } catch (err) {
      if (isTandemError(err) && err.code !== 'BAD_ARGUMENT') refuse(`${err.code}: ${err.message}`)
      throw err
    }
  }

  /** Leaves the datasets' topics and closes what this opened. */
  async close(onWarning: (err: unknown) => void): Promise<void> {
    for (const d of this.opened.values()) {
      const ds = await d.catch(() => null)
      if (!ds) continue
      await this.opts.node?.leaveDataset(ds.key).catch(onWarning)
      await ds.close().catch(onWarning)
    }
    this.opened.clear()
  }
}
