/** Per-rank step reports of a data-parallel job merged into one report per step (engine.ts). */
import type { StepInfo } from './inner-loop.js'

/** Combines per-rank step reports into one per step: mean loss, summed samples. */
export class StepMerger {
  private readonly parts = new Map<number, StepInfo[]>()
  private readonly merged: number[] = []

  constructor(
    private readonly ranks: number,
    private readonly emit: (info: StepInfo) => void,
  ) {}

  add(_rank: number, info: StepInfo): void {
    const list = this.parts.get(info.step) ?? []
    list.push(info)
    if (list.length < this.ranks) {
      this.parts.set(info.step, list)
      return
    }
    this.parts.delete(info.step)
    const loss = list.reduce((s, i) => s + i.loss, 0) / list.length
    this.merged.push(loss)
    this.emit({
      step: info.step,
      loss,
      lr: info.lr,
      gradNorm: Math.max(...list.map((i) => i.gradNorm)),
      samples: list.reduce((s, i) => s + i.samples, 0),
      ms: Math.max(...list.map((i) => i.ms)),
      optimizerMs: Math.max(...list.map((i) => i.optimizerMs)),
      dataMs: Math.max(...list.map((i) => i.dataMs)),
    })
  }

  losses(): number[] {
    return this.merged
  }
}
