import type { Command } from 'commander'
import { appPaths } from '../../util/app-paths.js'
import { packageInfo } from '../../util/package-info.js'
import type { CliIO } from '../io.js'

export function registerInfo(program: Command, io: CliIO): void {
  program
    .command('info')
    .description('show the version, runtime and where this node keeps its data')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const paths = appPaths()
      const info = {
        version: packageInfo().version,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        dataDir: paths.data,
        configDir: paths.config,
      }
      if (opts.json) {
        io.out(JSON.stringify(info) + '\n')
        return
      }
      const width = Math.max(...Object.keys(info).map((k) => k.length))
      for (const [key, value] of Object.entries(info)) io.out(`${key.padEnd(width)}  ${value}\n`)
    })
}
