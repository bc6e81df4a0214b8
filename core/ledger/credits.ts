/**
 * Credits, recent average credit and reputation: the arithmetic of the contribution ledger. Pure
 * functions, because the host computes them and any verifier replaying the ledger must get exactly
 * the same numbers.
 *
 * - credits = training FLOPs per sample × samples the host assigned × quality. Computed from the
 *   spec and the host's own assignment, never from a contributor's claim. Reported in GFLOP
 *   (1e9 FLOPs) so numbers stay readable.
 * - recent average credit (RAC): credits per day with exponential decay, as BOINC defines it; the
 *   default half-life is 7 days.
 * - reputation: an exponential moving average of quality per project, in [0, 1]; it weights the
 *   contributor's updates in aggregation.
 */
export const GFLOP = 1e9

export interface CreditPolicy {
  /** Quality below this earns nothing. */
  qualityFloor: number
  halfLifeDays: number
  /** Weight of the newest quality in the reputation average. */
  reputationRate: number
  /** Reputation of a contributor the project has not seen yet. */
  initialReputation: number
}

export const DEFAULT_CREDIT_POLICY: CreditPolicy = {
  qualityFloor: 0,
  halfLifeDays: 7,
  reputationRate: 0.2,
  initialReputation: 0.5,
}

/** Credits in GFLOP, rounded to 1e-6 so every implementation prints and compares the same value. */
export function creditsFor(
  flopsPerSample: number,
  samplesAssigned: number,
  quality: number,
  policy: CreditPolicy,
): number {
  if (!(quality >= policy.qualityFloor) || quality <= 0 || samplesAssigned <= 0) return 0
  const q = Math.min(1, quality)
  return Math.round(((flopsPerSample * samplesAssigned * q) / GFLOP) * 1e6) / 1e6
}

export interface Rac {
  /** Credits per day. */
  value: number
  /** Milliseconds since the epoch of the last update. */
  at: number
}

const DAY_MS = 86_400_000

/**
 * BOINC's update: decay the old average by the time since it was last updated, then add the new
 * credit spread over that interval. Credit granted the same millisecond adds its limit value.
 */
export function updateRac(
  prev: Rac | null,
  credit: number,
  now: number,
  halfLifeDays: number,
): Rac {
  const halfLifeMs = halfLifeDays * DAY_MS
  if (!prev) return { value: (credit * Math.LN2 * DAY_MS) / halfLifeMs, at: now }
  const dt = Math.max(0, now - prev.at)
  const weight = Math.exp((-dt * Math.LN2) / halfLifeMs)
  const decayed = prev.value * weight
  const added =
    1 - weight > 1e-6
      ? ((1 - weight) * credit * DAY_MS) / dt
      : (credit * Math.LN2 * DAY_MS) / halfLifeMs
  return { value: decayed + added, at: now }
}

/** RAC as it stands at `now` without new credit (for display). */
export function racAt(rac: Rac, now: number, halfLifeDays: number): number {
  const dt = Math.max(0, now - rac.at)
  return rac.value * Math.exp((-dt * Math.LN2) / (halfLifeDays * DAY_MS))
}

export function updateReputation(
  prev: number | undefined,
  quality: number,
  policy: CreditPolicy,
): number {
  const start = prev ?? policy.initialReputation
  const q = Math.max(0, Math.min(1, Number.isFinite(quality) ? quality : 0))
  return (1 - policy.reputationRate) * start + policy.reputationRate * q
}
