/** Running the `tandem` command in-process with its output captured (no child process). */
import { run } from '../../core/cli/main.js'
import type { CliIO } from '../../core/cli/io.js'

export interface CapturedIO extends CliIO {
  outText: string
  errText: string
}

/** A CliIO that collects what a command writes to stdout and stderr. */
export function captureIO(): CapturedIO {
  const io: CapturedIO = {
    outText: '',
    errText: '',
    out: (text) => void (io.outText += text),
    err: (text) => void (io.errText += text),
  }
  return io
}

/** Runs `tandem ...args` in this process: its exit code and what it wrote. */
export async function runTandem(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO()
  const code = await run(['node', 'tandem', ...args], io)
  return { code, out: io.outText, err: io.errText }
}
