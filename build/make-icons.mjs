#!/usr/bin/env node
// Renders build/icon.svg, the one source of the app's icons, into every size and format the
// installers and the app need (`npm run build:icons`, part of `npm run build`). Pure JS and
// WebAssembly: @resvg/resvg-wasm renders, png2icons packs .icns and .ico. Outputs are build
// products, not committed:
//   build/icon.png (1024), build/icon.icns (macOS), build/icon.ico (Windows),
//   build/icons/<n>x<n>.png (Linux: 16…1024), out/icons/{tray,tray@2x,window}.png (the running app)
import { Resvg, initWasm } from '@resvg/resvg-wasm'
import { Buffer } from 'node:buffer'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import png2icons from 'png2icons'

const root = new URL('..', import.meta.url).pathname
const require = createRequire(import.meta.url)
const svg = readFileSync(join(root, 'build/icon.svg'), 'utf8')

await initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')))

function render(size) {
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng())
}

/** Atomic: a reader (electron-builder) never sees half a file. */
function put(rel, bytes) {
  const file = join(root, rel)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, bytes)
  renameSync(`${file}.tmp`, file)
}

const big = render(1024)
put('build/icon.png', big)
for (const n of [16, 24, 32, 48, 64, 128, 256, 512, 1024])
  put(`build/icons/${n}x${n}.png`, render(n))
const icns = png2icons.createICNS(big, png2icons.BICUBIC, 0)
const ico = png2icons.createICO(big, png2icons.BICUBIC, 0, false, true)
if (!icns || !ico) throw new Error('png2icons could not convert build/icon.png')
put('build/icon.icns', icns)
put('build/icon.ico', ico)
put('out/icons/tray.png', render(22))
put('out/icons/tray@2x.png', render(44))
put('out/icons/window.png', render(512))
console.log('icons: build/icon.{png,icns,ico}, build/icons/*.png, out/icons/*.png')
