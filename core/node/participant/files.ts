/**
 * What a Participant keeps on disk for its project, in the node's `projects/` directory:
 * `receipts-<project>.json`, a cache of this node's receipts (the ledger can fill it again), and
 * `residual-<project>.bin`, the error-feedback residual (residual-file.ts). One place names
 * both paths and decides when a saved residual may be used. docs/node.md, "State files".
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { TandemError } from '../../api/errors.js'
import { readJsonFile, writeJsonAtomic } from '../atomic-file.js'
import { readResidual, saveResidual } from './residual-file.js'
import type { ReceiptRecord } from './types.js'

export class ParticipantFiles {
  private readonly receiptsPath: string
  private readonly residualPath: string

  constructor(dir: string, projectHex: string) {
    this.receiptsPath = join(dir, `receipts-${projectHex}.json`)
    this.residualPath = join(dir, `residual-${projectHex}.bin`)
  }

  /** [] when there are none; STATE_CORRUPT (the file set aside) when it is not a list. */
  async readReceipts(): Promise<ReceiptRecord[]> {
    const list = await readJsonFile(this.receiptsPath, (raw) => {
      if (!Array.isArray(raw)) throw new Error('not a list of receipts')
      return raw as ReceiptRecord[]
    })
    return (list ?? []).filter((r) => r && typeof r.round === 'number')
  }

  writeReceipts(list: readonly ReceiptRecord[]): Promise<void> {
    return writeJsonAtomic(this.receiptsPath, list)
  }

  /**
   * The residual an earlier run saved, for a model of `n` parameters whose last published update
   * is `lastUpdateHash`; null when there is none. STATE_STALE when it does not follow that update
   * (a crash between publishing and saving: it was already sent with it) or does not fit the model.
   */
  async readResidual(n: number, lastUpdateHash: string | undefined): Promise<Float32Array | null> {
    const saved = await readResidual(this.residualPath)
    if (!saved) return null
    if (saved.residual.length !== n)
      throw new TandemError(
        'STATE_STALE',
        `the saved error-feedback residual has ${saved.residual.length} values, the model ${n}; starting from zero`,
      )
    if (saved.updateHash !== lastUpdateHash)
      throw new TandemError(
        'STATE_STALE',
        'the saved error-feedback residual is older than the last update published ' +
          '(it was already sent with it); starting from zero',
      )
    return saved.residual
  }

  writeResidual(updateHash: string, residual: Float32Array): Promise<void> {
    return saveResidual(this.residualPath, { updateHash, residual })
  }

  /** Only matters while a member (4 bytes per parameter); the receipts stay. */
  discardResidual(): Promise<void> {
    return rm(this.residualPath, { force: true })
  }
}
