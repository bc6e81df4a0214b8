/**
 * Commands that manage a running daemon (`tandem daemon`) from a terminal, over its local API:
 *
 *   tandem status                      what the node is doing and why
 *   tandem pause [--after-round]       stop training now, or once the current round is done
 *   tandem resume
 *   tandem settings [get [key]]        preferences
 *   tandem settings set key=value ...  change preferences (take effect at once)
 *   tandem credits | receipts | projects
 *   tandem join <key> [--share n]      join a project (hex key or tandem://project/<key>)
 *   tandem leave <key>
 *
 * Human text by default, `--json` for the contract's values as they are. `--home <dir>` finds a
 * daemon started with the same `--home` (like TANDEM_HOME). Without a daemon each command fails
 * with NODE_NOT_RUNNING and says how to start one.
 */
import type { Command } from 'commander'
import { TandemError } from '../../api/errors.js'
import type { CliIO } from '../io.js'
import {
  formatCredits,
  formatJoined,
  formatProjects,
  formatReceipts,
  formatSettings,
  formatStatus,
  parseAssignments,
} from './client-format.js'
import { callDaemon, type DaemonTarget } from './client-http.js'

interface CommonFlags {
  json?: boolean
  home?: string
}

const target = (flags: CommonFlags): DaemonTarget => (flags.home ? { home: flags.home } : {})

function common(cmd: Command): Command {
  return cmd
    .option('--json', 'print the API result as JSON')
    .option('--home <dir>', 'the state directory the daemon was started with')
}

/** A project key from hex or a tandem://project/<key> link, as the API wants it. */
function projectKey(text: string): string {
  const hex = text
    .trim()
    .replace(/^tandem:\/\/project\//i, '')
    .toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TandemError('BAD_ARGUMENT', `"${text}" is not a project key (64 hex characters)`)
  }
  return hex
}

function positiveInt(text: string, what: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new TandemError('BAD_ARGUMENT', `${what} must be 1 or more`)
  return n
}

export function registerClientCommands(program: Command, io: CliIO): void {
  const print = <T>(flags: CommonFlags, value: T, human: (v: T) => string) =>
    io.out(flags.json ? `${JSON.stringify(value)}\n` : human(value))

  common(program.command('status'))
    .description('show what the running node is doing, and why')
    .action(async (flags: CommonFlags) => {
      print(flags, await callDaemon('node.status', {}, target(flags)), formatStatus)
    })

  common(program.command('pause'))
    .description('pause training (now, or once the current round is done)')
    .option('--after-round', 'finish the round in progress first, so its work counts')
    .action(async (flags: CommonFlags & { afterRound?: boolean }) => {
      const mode = flags.afterRound ? 'after-round' : 'now'
      print(flags, await callDaemon('node.pause', { mode }, target(flags)), formatStatus)
    })

  common(program.command('resume'))
    .description('resume training')
    .action(async (flags: CommonFlags) => {
      print(flags, await callDaemon('node.resume', {}, target(flags)), formatStatus)
    })

  const settings = program.command('settings').description("show or change the node's settings")
  common(settings.command('get [key]', { isDefault: true }))
    .description('show all settings, or one')
    .action(async (key: string | undefined, flags: CommonFlags) => {
      const value = await callDaemon('settings.get', {}, target(flags))
      if (flags.json) {
        const shown = key === undefined ? value : (value as Record<string, unknown>)[key]
        if (shown === undefined || key === 'version') {
          throw new TandemError('SETTINGS_INVALID', `unknown setting "${key}"`)
        }
        io.out(`${JSON.stringify(shown)}\n`)
      } else io.out(formatSettings(value, key))
    })
  common(settings.command('set <assignments...>'))
    .description('change settings, e.g. `settings set maxThreads=4 pauseOnBattery=false`')
    .action(async (words: string[], flags: CommonFlags) => {
      const patch = parseAssignments(words) // SETTINGS_INVALID names a bad field before sending
      const next = await callDaemon('settings.set', patch, target(flags))
      print(flags, next, (s) => formatSettings(s))
    })

  common(program.command('credits'))
    .description('credits earned, in total and per project')
    .action(async (flags: CommonFlags) => {
      print(flags, await callDaemon('credits.summary', {}, target(flags)), formatCredits)
    })

  common(program.command('receipts'))
    .description("this node's contributions, one receipt per round")
    .option('--project <key>', 'only this project')
    .option('--limit <n>', 'at most this many, newest (default 50)')
    .action(async (flags: CommonFlags & { project?: string; limit?: string }) => {
      const limit = flags.limit === undefined ? 50 : positiveInt(flags.limit, '--limit')
      const params = {
        limit,
        ...(flags.project ? { project: projectKey(flags.project) } : {}),
      }
      print(flags, await callDaemon('receipts.list', params, target(flags)), formatReceipts)
    })

  common(program.command('projects'))
    .description('projects this node knows, joined or not')
    .action(async (flags: CommonFlags) => {
      print(flags, await callDaemon('projects.list', {}, target(flags)), formatProjects)
    })

  common(program.command('join <key>'))
    .description('join a project (64 hex characters or a tandem://project/<key> link)')
    .option(
      '--share <n>',
      "resource share relative to the other joined projects (default: the node's)",
    )
    .action(async (key: string, flags: CommonFlags & { share?: string }) => {
      const params = {
        project: projectKey(key),
        ...(flags.share === undefined ? {} : { share: positiveInt(flags.share, '--share') }),
      }
      print(flags, await callDaemon('projects.join', params, target(flags)), formatJoined)
    })

  common(program.command('leave <key>'))
    .description('leave a project: stop training for it')
    .action(async (key: string, flags: CommonFlags) => {
      const project = projectKey(key)
      print(flags, await callDaemon('projects.leave', { project }, target(flags)), () => {
        return `left ${project}\n`
      })
    })
}
