#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is installed; otherwise says why and starts
// the headless daemon with the browser UI instead (`tandem daemon`: it prints the UI's address).
// Arguments after `npm start --` go to whichever starts. TANDEM_ELECTRON_DIR points at another
// `electron` package folder (the tests use an empty one to take the fallback path).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)

/** The Electron binary and null, or null and why there is none. */
function findElectron(dir) {
  if (!existsSync(join(dir, 'package.json')))
    return [null, 'the `electron` package is not installed (npm install --include=dev installs it)']
  let rel = ''
  try {
    rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim()
  } catch {
    return [
      null,
      "Electron's binary has not been downloaded (run `npx install-electron`; it needs internet access)",
    ]
  }
  const bin = join(dir, 'dist', rel)
  if (!existsSync(bin)) return [null, `Electron's binary is missing (${bin})`]
  return [bin, null]
}

function run(cmd, argv, env = process.env) {
  const child = spawn(cmd, argv, { stdio: 'inherit', env })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

const [electron, why] = findElectron(
  process.env['TANDEM_ELECTRON_DIR'] || join(root, 'node_modules/electron'),
)
if (electron) {
  const env = { ...process.env }
  delete env['ELECTRON_RUN_AS_NODE']
  run(electron, [root, ...args], env)
} else {
  console.log(`tandem: not opening the desktop app: ${why}.`)
  console.log('tandem: starting the headless daemon instead; open its UI in a browser.')
  run(process.execPath, [join(root, 'core/cli/bin.mjs'), 'daemon', ...args])
}
