/**
 * electron-builder packs the Linux x64 app for real (`--linux dir`), offline: a stand-in folder
 * replaces Electron's binary (electronDist; electron-builder would download the real one), so the
 * fuses, which are flipped inside that binary, are left out here (the packaging unit test checks
 * their configuration). Then the app.asar it wrote is read back: the app's bundles, the node's
 * entry, icons, the compiled core and the run-time dependencies are in; Electron, the build tools,
 * the headless-only TensorFlow binaries and every other platform's prebuilt binaries are not.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import yaml from 'js-yaml'

const asar = createRequire(import.meta.url)('@electron/asar') as {
  listPackage(file: string, options?: object): string[]
}

describe(
  'Linux package',
  { skip: process.platform !== 'linux' ? 'packs for Linux on Linux only' : undefined },
  () => {
    it("packs the app with only its own platform's binaries", async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-pack-'))
      t.after(() => rm(dir, { recursive: true, force: true }))
      const fakeElectron = join(dir, 'electron-dist')
      await mkdir(fakeElectron)
      await writeFile(join(fakeElectron, 'electron'), '#!/bin/sh\n')
      await chmod(join(fakeElectron, 'electron'), 0o755)
      const config = yaml.load(await readFile('build/electron-builder.yml', 'utf8')) as Record<
        string,
        unknown
      >
      delete config['electronFuses']
      config['electronDist'] = fakeElectron
      config['directories'] = { output: join(dir, 'release'), buildResources: 'build' }
      await writeFile(join(dir, 'builder.json'), JSON.stringify(config))
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TANDEM_RELEASE_OWNER: 'owner',
        TANDEM_RELEASE_REPO: 'repo',
        TANDEM_WIN_PUBLISHER: 'publisher',
      }
      delete env['NODE_TEST_CONTEXT']
      const out: string[] = []
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          'npx',
          [
            'electron-builder',
            '--config',
            join(dir, 'builder.json'),
            '--linux',
            'dir',
            '--x64',
            '--publish',
            'never',
          ],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        )
        child.stdout.on('data', (b: Buffer) => out.push(b.toString()))
        child.stderr.on('data', (b: Buffer) => out.push(b.toString()))
        child.on('exit', resolve)
      })
      assert.equal(code, 0, out.join('').slice(-4000))
      assert.match(out.join(''), /skipped dependencies rebuild\s+reason=npmRebuild is set to false/)

      const resources = join(dir, 'release', 'linux-unpacked', 'resources')
      const files = new Set(
        asar.listPackage(join(resources, 'app.asar')).map((f) => f.replaceAll('\\', '/')),
      )
      for (const f of [
        '/package.json',
        '/out/main/index.js',
        '/out/main/node.js',
        '/out/preload/index.cjs',
        '/out/renderer/index.html',
        '/out/icons/tray.png',
        '/dist/core/node/node.js',
        '/node_modules/electron-updater/package.json',
        '/node_modules/ps-list/package.json',
        '/node_modules/zod/package.json',
        '/node_modules/rocksdb-native/package.json',
      ])
        assert.ok(files.has(f), `${f} is not in app.asar`)
      const has = (re: RegExp) => [...files].filter((f) => re.test(f))
      assert.deepEqual(
        has(/^\/node_modules\/electron\//),
        [],
        'Electron itself is not a production dependency',
      )
      assert.deepEqual(
        has(/^\/node_modules\/(electron-builder|electron-vite|typescript|playwright-core)\//),
        [],
      )
      assert.deepEqual(has(/^\/node_modules\/@tensorflow\/tfjs-node/), [])
      assert.deepEqual(has(/^\/(core|test|renderer\/src|electron)\//), [], 'no sources')
      const platforms = new Set(
        [...files].flatMap((f) => /\/(?:prebuilds|webgpu\/dist)\/([^/]+)\//.exec(f)?.[1] ?? []),
      )
      assert.deepEqual([...platforms], ['linux-x64'], 'only linux-x64 prebuilt binaries')
      const update = yaml.load(await readFile(join(resources, 'app-update.yml'), 'utf8'))
      assert.deepEqual(
        { ...(update as object), updaterCacheDirName: undefined },
        {
          owner: 'owner',
          repo: 'repo',
          provider: 'github',
          releaseType: 'draft',
          updaterCacheDirName: undefined,
        },
      )
    })
  },
)
