/**
 * The layering rules must fire on real violations and stay quiet on allowed imports. Each case lints
 * a snippet as if it were a file in the named folder, with the repository's own eslint.config.js.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import { ESLint } from 'eslint'

const eslint = new ESLint({ cwd: process.cwd() })

async function lintAs(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  assert.ok(result, 'eslint returned no result')
  return result.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`)
}

function assertFires(messages: string[], ruleId: string, fragment: string): void {
  const hit = messages.find((m) => m.startsWith(`${ruleId}:`) && m.includes(fragment))
  assert.ok(hit, `expected ${ruleId} mentioning "${fragment}", got: ${JSON.stringify(messages)}`)
}

const use = (name: string) => `\nexport const used = ${name}\n`

describe('layering lint rules', () => {
  it('core/ may not import electron', async () => {
    const messages = await lintAs(
      'core/engine/probe.ts',
      `import { app } from 'electron'${use('app')}`,
    )
    assertFires(messages, 'no-restricted-imports', 'Only electron/ may import Electron')
  })

  it('core/ may not use DOM globals', async () => {
    const messages = await lintAs('core/engine/probe.ts', `export const title = document.title\n`)
    assertFires(messages, 'no-restricted-globals', 'no DOM APIs')
  })

  it('core/ may not import the shell or the UI', async () => {
    const messages = await lintAs(
      'core/engine/probe.ts',
      `import { registerApi } from '../../electron/main/ipc.js'${use('registerApi')}`,
    )
    assertFires(messages, 'import-x/no-restricted-paths', 'never depends on the shell')
  })

  it('core/api/ may not import Node modules or the rest of core/', async () => {
    const node = await lintAs(
      'core/api/probe.ts',
      `import { readFileSync } from 'node:fs'${use('readFileSync')}`,
    )
    assertFires(node, 'no-restricted-imports', 'no Node modules')
    const inner = await lintAs(
      'core/api/probe.ts',
      `import { appPaths } from '../util/app-paths.js'${use('appPaths')}`,
    )
    assertFires(inner, 'import-x/no-restricted-paths', 'pure contract')
  })

  it('engine compute code (shared with the browser) may not import Node modules', async () => {
    const messages = await lintAs(
      'core/engine/model/probe.ts',
      `import { cpus } from 'node:os'${use('cpus')}`,
    )
    assertFires(messages, 'no-restricted-imports', 'runs in a browser window too')
    const worker = await lintAs(
      'core/engine/worker/probe.ts',
      `import { cpus } from 'node:os'${use('cpus')}`,
    )
    assert.deepEqual(worker, [])
  })

  it('renderer/ may not import Node modules, bare or node:-prefixed', async () => {
    for (const spec of ['fs', 'node:path', 'child_process']) {
      const messages = await lintAs(
        'renderer/src/probe.ts',
        `import * as m from '${spec}'${use('m')}`,
      )
      assertFires(messages, 'no-restricted-imports', 'no Node modules')
    }
  })

  it('renderer/ may not use process or require', async () => {
    const messages = await lintAs('renderer/src/probe.ts', `export const env = process.env\n`)
    assertFires(messages, 'no-restricted-globals', 'no process')
  })

  it('renderer/ may not import core/ outside core/api/', async () => {
    const messages = await lintAs(
      'renderer/src/probe.ts',
      `import { appPaths } from '../../core/util/app-paths.js'${use('appPaths')}`,
    )
    assertFires(messages, 'import-x/no-restricted-paths', 'only the API contract')
  })

  it('renderer/ may import the API contract', async () => {
    const messages = await lintAs(
      'renderer/src/probe.ts',
      `import { Methods } from '../../core/api/contract'${use('Methods')}`,
    )
    assert.deepEqual(messages, [])
  })

  it('electron/ may not reach into renderer internals', async () => {
    const messages = await lintAs(
      'electron/main/probe.ts',
      `import { App } from '../../renderer/src/App'${use('App')}`,
    )
    assertFires(messages, 'import-x/no-restricted-paths', 'renderer internals')
  })

  it('electron/ may import electron and core/', async () => {
    const messages = await lintAs(
      'electron/main/probe.ts',
      `import { app } from 'electron'\nimport { dispatch } from '../../core/api/dispatch.js'\nexport const used = [app, dispatch]\n`,
    )
    assert.deepEqual(messages, [])
  })

  it('core/ folders may not import a later layer or a peer of their own layer', async () => {
    const cases: Array<[string, string, string]> = [
      ['core/engine/probe.ts', '../data/dataset.js', 'Dataset'],
      ['core/ledger/probe.ts', '../host/host.js', 'ProjectHost'],
      ['core/net/probe.ts', '../ledger/ledger.js', 'LedgerWriter'],
      ['core/host/probe.ts', '../node/node.js', 'ContributorNode'],
      ['core/node/probe.ts', '../server/api-server.js', 'startApiServer'],
      ['core/util/probe.ts', '../engine/engine.js', 'TrainingEngine'],
    ]
    for (const [file, spec, name] of cases) {
      const messages = await lintAs(file, `import { ${name} } from '${spec}'${use(name)}`)
      assertFires(messages, 'import-x/no-restricted-paths', 'may import only earlier layers')
    }
  })

  it('core/ folders may import earlier layers', async () => {
    const messages = await lintAs(
      'core/host/probe.ts',
      `import { TandemError } from '../api/errors.js'\nimport { parseProjectSpec } from '../ledger/manifest.js'\nimport { displayId } from '../net/identity.js'\nimport { appPaths } from '../util/app-paths.js'\nexport const used = [TandemError, parseProjectSpec, displayId, appPaths]\n`,
    )
    assert.deepEqual(messages, [])
    const cli = await lintAs(
      'core/cli/probe.ts',
      `import { startApiServer } from '../server/api-server.js'${use('startApiServer')}`,
    )
    assert.deepEqual(cli, [])
  })

  it('every folder of core/ has a place in the layer order', async () => {
    const config = new URL('../../eslint.config.js', import.meta.url).href
    const { coreLayers } = (await import(config)) as { coreLayers: string[][] }
    const ordered = coreLayers.flat()
    assert.equal(new Set(ordered).size, ordered.length, 'a folder is listed twice')
    const folders = readdirSync('core', { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
    assert.deepEqual([...folders].sort(), [...ordered].sort())
  })

  it('core/ may not have an import cycle', async () => {
    // Linted as commands/info.ts itself: main.ts imports it, so importing main.ts closes a loop.
    const messages = await lintAs(
      'core/cli/commands/info.ts',
      `import { buildProgram } from '../main.js'${use('buildProgram')}`,
    )
    assertFires(messages, 'import-x/no-cycle', 'cycle')
    const typeOnly = await lintAs(
      'core/cli/commands/info.ts',
      `import type { buildProgram } from '../main.js'\nexport type Used = typeof buildProgram\n`,
    )
    assert.deepEqual(typeOnly, [])
  })

  it('no declaration or import may shadow a JavaScript global', async () => {
    const declared = await lintAs(
      'core/aggregate/probe.ts',
      `export class AggregateError extends Error {}\nconst Map = 1\nexport const used = Map\n`,
    )
    assert.equal(declared.filter((m) => m.includes('shadows a JavaScript global')).length, 2)
    const imported = await lintAs(
      'core/host/probe.ts',
      `import { AggregationError as AggregateError } from '../aggregate/aggregate.js'${use('AggregateError')}`,
    )
    assertFires(imported, 'no-restricted-syntax', 'shadows a JavaScript global')
    const distinct = await lintAs(
      'core/aggregate/probe.ts',
      `export class AggregationError extends Error {}\nexport const seen = new Map<string, number>()\n`,
    )
    assert.deepEqual(distinct, [])
  })
})
