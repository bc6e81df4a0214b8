/**
 * Inner learning-rate schedule: linear warmup, then cosine decay to a floor. It is indexed by the
 * global inner step (round × H + step), so the schedule runs across rounds, as in DiLoCo.
 */
export interface LrSchedule {
  peakLr: number
  warmupSteps: number
  /** Step at which the cosine reaches the floor; constant after. */
  totalSteps: number
  /** Floor as a fraction of the peak. */
  minLrRatio: number
}

export function learningRate(s: LrSchedule, step: number): number {
  if (step < s.warmupSteps) return (s.peakLr * (step + 1)) / s.warmupSteps
  const span = Math.max(1, s.totalSteps - s.warmupSteps)
  const progress = Math.min(1, (step - s.warmupSteps) / span)
  const floor = s.peakLr * s.minLrRatio
  return floor + 0.5 * (s.peakLr - floor) * (1 + Math.cos(Math.PI * progress))
}
