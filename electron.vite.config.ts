import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

// electron-vite reads Electron's major version from node_modules/electron to pick the Node target.
// Where the `electron` package is absent (an install with --omit=dev, or a checkout without
// node_modules/electron), take the major version from the version we pin, so the bundles still build.
if (!process.env['ELECTRON_MAJOR_VER']) {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    devDependencies: Record<string, string>
  }
  const pinned = /\d+/.exec(pkg.devDependencies['electron'] ?? '')
  if (pinned) process.env['ELECTRON_MAJOR_VER'] = pinned[0]
}

// Three bundles: main and preload (Node/Electron) and the renderer (browser). The renderer's build is
// the same one the headless daemon serves to a plain browser.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // Two entries: the main process (index.js) and the node's utility process (node.js).
      lib: {
        entry: {
          index: resolve('electron/main/index.ts'),
          node: resolve('electron/main/node-process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      lib: { entry: resolve('electron/preload/index.ts'), formats: ['cjs'] },
    },
  },
  renderer: {
    root: 'renderer',
    base: './',
    build: {
      outDir: 'out/renderer',
      // electron-vite leaves bundles unminified by default; the renderer also goes over the
      // network to browsers managing a headless rig, so it is minified (with a source map).
      minify: 'esbuild',
      sourcemap: true,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
    plugins: [react()],
  },
})
