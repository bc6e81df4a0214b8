/**
 * Data-parallel ranks' view of the job's data: each step's batch read once from the source and
 * split into equal row slices, one per rank (engine.ts hands them to the workers).
 */
import { TandemError } from '../api/errors.js'
import type { Batch, DataSource } from './batch.js'

/**
 * Serves each step's batch to the data-parallel ranks, each taking an equal slice of the rows.
 * Steps are read from the source strictly in order.
 */
export class BatchFeed {
  private readonly cache = new Map<number, { batch: Batch; taken: number }>()
  private chain: Promise<unknown> = Promise.resolve()
  private nextStep = 0

  constructor(
    private readonly source: DataSource,
    private readonly ranks: number,
  ) {}

  async slice(step: number, rank: number): Promise<Batch> {
    const entry = await this.load(step)
    entry.taken++
    if (entry.taken === this.ranks) this.cache.delete(step)
    return this.ranks === 1 ? entry.batch : sliceRows(entry.batch, rank, this.ranks)
  }

  private load(step: number): Promise<{ batch: Batch; taken: number }> {
    const next = this.chain.then(async () => {
      while (this.nextStep <= step) {
        this.cache.set(this.nextStep, { batch: await this.source.next(), taken: 0 })
        this.nextStep++
      }
      const entry = this.cache.get(step)
      if (!entry)
        throw new TandemError('ENGINE_FAILED', `batch ${step} was requested twice by every rank`)
      return entry
    })
    // The caller awaits `next` and gets its error; the chain only orders the steps, so one failed
    // step must not fail every later one.
    this.chain = next.catch(() => undefined)
    return next
  }
}

export function batchBuffers(batch: Batch): ArrayBuffer[] {
  const arrays = batch.kind === 'tokens' ? [batch.tokens] : [batch.x, batch.y]
  return arrays.map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)
}

export function sliceRows(batch: Batch, rank: number, ranks: number): Batch {
  const from = Math.floor((rank * batch.batch) / ranks)
  const to = Math.floor(((rank + 1) * batch.batch) / ranks)
  if (batch.kind === 'tokens') {
    const row = batch.seqLen + 1
    return { ...batch, batch: to - from, tokens: batch.tokens.slice(from * row, to * row) }
  }
  const row = batch.shape.reduce((a, b) => a * b, 1)
  return {
    ...batch,
    batch: to - from,
    x: batch.x.slice(from * row, to * row),
    y: batch.y.slice(from, to),
  }
}
