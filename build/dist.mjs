#!/usr/bin/env node
// `npm run dist`: electron-builder with build/electron-builder.yml, for the system it runs on
// (arguments after `npm run dist --` go to electron-builder, e.g. `--linux AppImage`). The config
// names the release repository and the Windows publisher through environment variables; a local
// build that sets none gets these placeholders (its installers are unsigned and unpublished).
import { spawn } from 'node:child_process'

const defaults = {
  TANDEM_RELEASE_OWNER: 'tandem',
  TANDEM_RELEASE_REPO: 'tandem',
  TANDEM_WIN_PUBLISHER: 'Tandem developers',
}
const env = { ...process.env }
for (const [name, value] of Object.entries(defaults)) env[name] ??= value

const args = ['electron-builder', '--config', 'build/electron-builder.yml', '--publish', 'never']
const child = spawn('npx', [...args, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
  shell: process.platform === 'win32',
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
