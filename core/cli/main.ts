/**
 * Command-line entry: builds the commander program. Each command lives in its own file under
 * commands/ and registers itself here.
 */
import { Command, CommanderError } from 'commander'
import { isTandemError } from '../api/errors.js'
import { packageInfo } from '../util/package-info.js'
import { registerClientCommands } from './commands/client.js'
import { registerDataset } from './commands/dataset.js'
import { registerDemo } from './commands/demo.js'
import { registerDoctor } from './commands/doctor.js'
import { registerGovernance } from './commands/governance.js'
import { registerInfo } from './commands/info.js'
import { registerNode } from './commands/node.js'
import { registerProject } from './commands/project.js'
import { registerSwarm } from './commands/swarm.js'
import { registerTestnet } from './commands/testnet.js'
import { registerVerify } from './commands/verify.js'
import type { CliIO } from './io.js'

const stdio: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
}

export function buildProgram(io: CliIO = stdio): Command {
  const program = new Command('tandem')
    .description("Donate this computer's GPU or CPU time to open AI training projects.")
    .version(packageInfo().version, '-v, --version', 'print the version')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError()
    .exitOverride()
  registerInfo(program, io)
  registerDoctor(program, io)
  registerNode(program, io)
  registerClientCommands(program, io)
  registerDemo(program, io)
  registerTestnet(program, io)
  registerSwarm(program, io)
  registerDataset(program, io)
  registerProject(program, io)
  registerGovernance(program, io)
  registerVerify(program, io)
  return program
}

/** Runs the CLI and returns the process exit code; never calls process.exit itself. */
export async function run(argv: string[], io: CliIO = stdio): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    if (isTandemError(err)) {
      io.err(`tandem: ${err.message} [${err.code}]\n`)
      return 2
    }
    io.err(
      `tandem: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    return 1
  }
}
