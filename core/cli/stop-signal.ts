/**
 * Long-running commands stop on Ctrl-C or SIGTERM. The listeners are removed when the command ends:
 * left behind, a caller running commands in-process (tests, the app) would collect one stale
 * listener per run, and a process with a SIGINT listener no longer exits on Ctrl-C by default.
 */
export interface StopSignal {
  /** Resolves with why the command should stop. */
  readonly stopped: Promise<string>
  /** Stops for a reason of the command's own (e.g. "enough peers"). */
  stop(why: string): void
  /** Removes the signal listeners; call once the command is done. */
  dispose(): void
}

export function stopSignal(): StopSignal {
  let resolve!: (why: string) => void
  const stopped = new Promise<string>((r) => (resolve = r))
  const onSigint = () => resolve('interrupted')
  const onSigterm = () => resolve('terminated')
  process.once('SIGINT', onSigint)
  process.once('SIGTERM', onSigterm)
  return {
    stopped,
    stop: (why) => resolve(why),
    dispose() {
      process.off('SIGINT', onSigint)
      process.off('SIGTERM', onSigterm)
    },
  }
}
