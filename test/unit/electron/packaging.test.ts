/**
 * The installers' configuration, checked without packaging (electron-builder downloads Electron's
 * binary for each target, which our machines cannot): it reads build/electron-builder.yml and
 * package.json, runs electron-builder's own file matcher over the real prebuilt binaries in
 * node_modules for every platform and architecture, and looks at the built output (`npm run
 * build`, which `npm test` runs first): the bundles, the node's utility-process entry, the icons.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import yaml from 'js-yaml'

type Files = Array<string | { from?: string; filter?: string[] }>
interface PlatformConfig {
  target: Array<{ target: string; arch: string[] }>
  files?: Files
  icon?: string
  executableName?: string
  [key: string]: unknown
}
interface BuilderConfig {
  appId: string
  productName: string
  electronVersion: string
  artifactName: string
  npmRebuild: boolean
  files: Files
  asarUnpack: string[]
  electronFuses: Record<string, boolean>
  protocols: Array<{ name: string; schemes: string[] }>
  publish: { provider: string }
  mac: PlatformConfig
  win: PlatformConfig
  linux: PlatformConfig & { desktop: { entry: Record<string, string> } }
  [key: string]: unknown
}

const root = process.cwd()
const builder = yaml.load(readFileSync('build/electron-builder.yml', 'utf8')) as BuilderConfig
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  main: string
  scripts: Record<string, string>
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  optionalDependencies?: Record<string, string>
}

/** electron-builder's own matcher (app-builder-lib, electron-builder's engine). */
interface Filter {
  (file: string, stat: { isDirectory(): boolean }): boolean
}
const fileMatcher = createRequire(import.meta.url)('app-builder-lib/out/fileMatcher.js') as {
  getNodeModuleFileMatcher(
    appDir: string,
    dest: string,
    expand: (s: string) => string,
    platformOptions: { files?: Files },
    packager: { config: { files: Files }; debugLogger: { isEnabled: boolean } },
  ): { createFilter(): Filter }
  getFileMatchers(
    config: { files: Files },
    name: 'files',
    dest: string,
    options: {
      macroExpander: (s: string) => string
      customBuildOptions: { files?: Files }
      globalOutDir: string
      defaultSrc: string
    },
  ): Array<{ createFilter(): Filter }> | null
}
const fileStat = { isDirectory: () => false }

/** One real file from every prebuilt-binary folder: node_modules/<pkg>/prebuilds/<platform>/… */
function prebuiltSamples(): string[] {
  const out: string[] = []
  const scan = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const pkgDir = join(dir, name)
      if (name.startsWith('@')) {
        scan(pkgDir)
        continue
      }
      const pre = join(pkgDir, 'prebuilds')
      if (existsSync(pre))
        for (const platform of readdirSync(pre)) {
          const [file] = readdirSync(join(pre, platform))
          if (file) out.push(join(pre, platform, file))
        }
    }
  }
  scan(join(root, 'node_modules'))
  const webgpu = join(root, 'node_modules/webgpu/dist')
  for (const platform of readdirSync(webgpu)) {
    const [file] = readdirSync(join(webgpu, platform))
    if (file) out.push(join(webgpu, platform, file))
  }
  return out
}

const PLATFORMS = [
  ['linux', 'linux', ['x64', 'arm64']],
  ['win', 'win32', ['x64', 'arm64']],
  ['mac', 'darwin', ['x64', 'arm64']],
] as const

const builderConfig = createRequire(import.meta.url)(
  'app-builder-lib/out/util/config/config.js',
) as {
  validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(): void }): Promise<void>
}

describe('packaging', () => {
  it("the config passes electron-builder's own schema", async () => {
    await builderConfig.validateConfiguration(builder, { isEnabled: false, add: () => {} })
  })

  it('electron is a pinned devDependency, never a production one', () => {
    assert.equal(pkg.dependencies['electron'], undefined)
    assert.equal(pkg.optionalDependencies?.['electron'], undefined)
    assert.equal(pkg.devDependencies['electron'], builder.electronVersion)
    for (const buildOnly of [
      'electron-builder',
      'electron-vite',
      '@resvg/resvg-wasm',
      'png2icons',
      'js-yaml',
    ])
      assert.equal(
        pkg.dependencies[buildOnly],
        undefined,
        `${buildOnly} would ship in every installer`,
      )
    // What the app needs at run time does ship.
    for (const runtime of ['electron-updater', 'ps-list', 'zod'])
      assert.ok(pkg.dependencies[runtime], `${runtime} must be a production dependency`)
    assert.equal(pkg.main, 'out/main/index.js')
  })

  it('names: app id, product, executables, artifacts', () => {
    assert.equal(builder.appId, 'org.tandem.desktop')
    assert.equal(builder.productName, 'Tandem')
    assert.equal(builder.win.executableName, 'Tandem')
    assert.equal(builder.linux.executableName, 'tandem')
    assert.match(builder.artifactName, /\$\{version\}.*\$\{arch\}/)
  })

  it('targets: AppImage and deb, NSIS, dmg (and the zip macOS updates need)', () => {
    const targets = (p: PlatformConfig) => p.target.map((t) => t.target).sort()
    assert.deepEqual(targets(builder.linux), ['AppImage', 'deb'])
    assert.deepEqual(targets(builder.win), ['nsis'])
    assert.deepEqual(targets(builder.mac), ['dmg', 'zip'])
  })

  it('fuses are configured', () => {
    const f = builder.electronFuses
    assert.equal(f['runAsNode'], false)
    assert.equal(f['enableNodeOptionsEnvironmentVariable'], false)
    assert.equal(f['enableNodeCliInspectArguments'], false)
    assert.equal(f['enableCookieEncryption'], true)
    assert.equal(f['enableEmbeddedAsarIntegrityValidation'], true)
    assert.equal(f['onlyLoadAppFromAsar'], true)
  })

  it('native modules are not rebuilt (Node-API prebuilds), as the config states', () => {
    assert.equal(builder.npmRebuild, false)
    assert.match(readFileSync('build/electron-builder.yml', 'utf8'), /Node-API is ABI-stable/)
  })

  it("each platform's file list repeats the top-level one (it replaces it)", () => {
    for (const [key] of PLATFORMS) {
      const files = builder[key].files ?? []
      for (const entry of builder.files)
        assert.ok(files.includes(entry), `${key}.files lacks ${String(entry)}`)
    }
  })

  it("each installer carries only its own platform's and architecture's prebuilt binaries", () => {
    const samples = prebuiltSamples()
    assert.ok(samples.length > 50, `only ${samples.length} prebuilt binaries found`)
    for (const [key, platform, arches] of PLATFORMS) {
      for (const arch of arches) {
        const expand = (s: string) => s.replaceAll('${arch}', arch)
        const filter = fileMatcher
          .getNodeModuleFileMatcher(root, '/app', expand, builder[key], {
            config: builder,
            debugLogger: { isEnabled: false },
          })
          .createFilter()
        const kept = samples.filter((f) => filter(f, fileStat))
        const folders = new Set(kept.map((f) => f.split(/[/\\]/).at(-2)))
        const own =
          platform === 'darwin' ? [`darwin-${arch}`, 'darwin-universal'] : [`${platform}-${arch}`]
        assert.deepEqual(
          [...folders].filter((f) => !own.includes(f!)),
          [],
          `${key} ${arch} carries other platforms' binaries`,
        )
        for (const native of ['rocksdb-native', 'sodium-native', 'udx-native'])
          assert.ok(
            kept.some((f) => f.includes(`${native}/prebuilds/${platform}-${arch}/`)),
            `${key} ${arch} lacks ${native}`,
          )
        if (platform !== 'darwin')
          assert.ok(
            kept.some((f) => f.includes(`webgpu/dist/${platform}-${arch}/`)),
            `${key} ${arch} lacks webgpu`,
          )
        // Large native libraries meant for headless rigs stay out.
        assert.equal(
          filter(join(root, 'node_modules/@tensorflow/tfjs-node-gpu/package.json'), fileStat),
          false,
        )
      }
    }
  })

  it('the built app is what the config packs: bundles, the node entry, the UI; no source maps', () => {
    // A platform's `files` replaces the top-level list in electron-builder's merge (the Linux
    // packing test, test/integration/electron/package-linux.test.ts, showed it): check with it.
    const matchers = fileMatcher.getFileMatchers({ files: builder.linux.files! }, 'files', '/app', {
      macroExpander: (s) => s.replaceAll('${arch}', 'x64'),
      customBuildOptions: {},
      globalOutDir: resolve('release'),
      defaultSrc: root,
    })
    const filter = matchers![0]!.createFilter()
    const needed = [
      'out/main/index.js',
      'out/main/node.js',
      'out/preload/index.cjs',
      'out/renderer/index.html',
      'out/icons/tray.png',
      'out/icons/window.png',
      'dist/core/node/node.js',
      'dist/core/node/api.js',
      'package.json',
    ]
    for (const rel of needed) {
      assert.ok(existsSync(rel), `${rel} is not built (npm run build)`)
      assert.equal(filter(join(root, rel), fileStat), true, `${rel} is not packed`)
    }
    for (const rel of [
      'out/main/index.js.map',
      'core/node/node.ts',
      'test/unit/electron/packaging.test.ts',
    ])
      assert.equal(filter(join(root, rel), fileStat), false, `${rel} would be packed`)
    // The main bundle starts the node from the entry that is built next to it, with the tray icon.
    const main = readFileSync('out/main/index.js', 'utf8')
    assert.match(main, /"node\.js"/)
    assert.match(main, /"\.\.\/icons\/tray\.png"/)
  })

  it('icons for every platform are rendered from the one source', () => {
    assert.match(pkg.scripts['build']!, /build:icons/)
    assert.match(readFileSync('build/icon.svg', 'utf8'), /^<svg /)
    const png = (rel: string) => {
      const b = readFileSync(rel)
      assert.equal(b.subarray(1, 4).toString(), 'PNG', rel)
      return [b.readUInt32BE(16), b.readUInt32BE(20)]
    }
    assert.deepEqual(png('build/icon.png'), [1024, 1024])
    for (const n of [16, 32, 48, 64, 128, 256, 512, 1024])
      assert.deepEqual(png(`build/icons/${n}x${n}.png`), [n, n])
    assert.deepEqual(png('out/icons/tray.png'), [22, 22])
    assert.equal(readFileSync('build/icon.icns').subarray(0, 4).toString(), 'icns')
    assert.deepEqual([...readFileSync('build/icon.ico').subarray(0, 4)], [0, 0, 1, 0])
    assert.equal(builder.mac.icon, 'build/icon.icns')
    assert.equal(builder.win.icon, 'build/icon.ico')
    assert.equal(builder.linux.icon, 'build/icons')
  })

  it('tandem:// is registered with the OS by every installer', () => {
    assert.deepEqual(
      builder.protocols.flatMap((p) => p.schemes),
      ['tandem'],
    )
    assert.match(builder.linux.desktop.entry['MimeType']!, /x-scheme-handler\/tandem;/)
  })

  it('updates: published releases, signature checked on Windows', () => {
    assert.equal(builder.publish.provider, 'github')
    assert.equal(builder.win['verifyUpdateCodeSignature'], true)
    assert.ok((builder.win['signtoolOptions'] as { publisherName?: string }).publisherName)
  })

  it("signing is driven by environment variables, documented, and built on each platform's runner", () => {
    const readme = readFileSync('README.md', 'utf8')
    for (const v of ['CSC_LINK', 'WIN_CSC_LINK', 'APPLE_API_KEY', 'APPLE_API_ISSUER'])
      assert.ok(readme.includes(v), `README does not document ${v}`)
    const workflow = yaml.load(readFileSync('.github/workflows/installers.yml', 'utf8')) as {
      jobs: Record<string, { strategy?: { matrix?: { include?: Array<{ os: string }> } } }>
    }
    const runners = Object.values(workflow.jobs).flatMap(
      (j) => j.strategy?.matrix?.include?.map((i) => i.os) ?? [],
    )
    assert.deepEqual(runners.map((r) => r.split('-')[0]).sort(), ['macos', 'ubuntu', 'windows'])
  })
})
