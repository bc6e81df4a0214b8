/**
 * Which deadline holds for each round, and which rounds this participant has let pass. The ledger's
 * round-open gives a deadline; the host's roundOpen messages may extend it (never shorten it), and
 * an extension revives a round we let pass only because its deadline had gone by. Rounds given up
 * for other reasons (finished late, failed) stay given up. docs/node.md, "Participant".
 */

/** 'deadline': it had passed when we looked; 'late': trained past it; 'failed': training failed. */
export type SkipReason = 'deadline' | 'late' | 'failed'

export class RoundDeadlines {
  private readonly skipped = new Map<number, SkipReason>()
  /** Extended deadlines the host announced, by round. */
  private readonly hinted = new Map<number, number>()

  /** The later of the ledger's deadline and any the host announced for `round`. */
  deadline(round: number, ledgerDeadline: number): number {
    return Math.max(ledgerDeadline, this.hinted.get(round) ?? 0)
  }

  /** The host announced `deadline` for `round` at `now`. */
  hint(round: number, deadline: number, now: number): void {
    this.hinted.set(round, Math.max(this.hinted.get(round) ?? 0, deadline))
    // The host extended a round we let pass: there is time again.
    if (this.skipped.get(round) === 'deadline' && deadline > now) this.skipped.delete(round)
  }

  skip(round: number, why: SkipReason): void {
    this.skipped.set(round, why)
  }

  isSkipped(round: number): boolean {
    return this.skipped.has(round)
  }
}
