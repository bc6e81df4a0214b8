/**
 * Where a command writes: stdout and stderr in the real CLI, captured strings in tests. Its own file
 * so that commands/ need not import main.ts, which imports them (a cycle).
 */
export interface CliIO {
  out: (text: string) => void
  err: (text: string) => void
  /** Whether `out` is a terminal a person reads (not a pipe, file or journal). Default false. */
  isTTY?: boolean
}
