#!/usr/bin/env node
// The `tandem` command. Plain JavaScript so it runs without a TypeScript toolchain: it loads the
// compiled CLI from dist/, which `npm install` builds (the `prepare` script).
import { existsSync } from 'node:fs'

const entry = new URL('../../dist/core/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write(
    'tandem: the core is not built yet. Run `npm run build:core` in the repository.\n',
  )
  process.exit(1)
}
const { run } = await import(entry.href)
process.exitCode = await run(process.argv)
