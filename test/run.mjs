#!/usr/bin/env node
// `npm test`: build, typecheck, lint and format checks, then the unit, integration and e2e suites,
// ending with one line `N passed, N failed, N skipped`. Each check (build, typecheck, lint, format)
// counts as one test. `node test/run.mjs unit e2e` runs only the named stages.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
process.chdir(root)

const electronTypes = existsSync('node_modules/electron/electron.d.ts')

const checks = {
  build: [['npm', ['run', '--silent', 'build']]],
  typecheck: [
    ['npx', ['tsc', '-p', 'core']],
    ['npx', ['tsc', '-p', 'renderer']],
    // Without the Electron package (offline installs) its types come from a shim; say which.
    [
      'npx',
      ['tsc', '-p', electronTypes ? 'electron/tsconfig.json' : 'electron/tsconfig.shim.json'],
    ],
    ['npx', ['tsc', '-p', 'test']],
  ],
  lint: [['npx', ['eslint', '.', '--max-warnings', '0']]],
  format: [['npx', ['prettier', '--check', '--log-level', 'warn', '.']]],
}

// Suites: folders of *.test.ts files run by node's test runner through tsx.
const suites = {
  unit: {
    dirs: ['test/unit', 'test/lint'],
    concurrency: Math.max(1, availableParallelism()),
    timeout: 120_000,
  },
  integration: { dirs: ['test/integration'], concurrency: 1, timeout: 300_000 },
  e2e: { dirs: ['test/e2e'], concurrency: 1, timeout: 300_000 },
}

const order = ['build', 'typecheck', 'lint', 'format', 'unit', 'integration', 'e2e']
const wanted = process.argv.slice(2)
for (const name of wanted) {
  if (!order.includes(name)) {
    console.error(`unknown stage "${name}"; stages: ${order.join(', ')}`)
    process.exit(2)
  }
}
// Asking for suites alone still builds first: e2e serves the built UI and the CLI runs from dist/.
const stages = wanted.length ? order.filter((s) => s === 'build' || wanted.includes(s)) : order

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

function testFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f))
}

const total = { passed: 0, failed: 0, skipped: 0 }
const failures = []
const skips = []
const started = Date.now()

for (const stage of stages) {
  const t0 = Date.now()
  console.log(`\n── ${stage} ${'─'.repeat(Math.max(0, 60 - stage.length))}`)
  if (checks[stage]) {
    let code = 0
    for (const [cmd, args] of checks[stage]) {
      code = await run(cmd, args)
      if (code !== 0) break
    }
    if (code === 0) total.passed++
    else {
      total.failed++
      failures.push(`${stage} (exit ${code})`)
    }
    console.log(
      `${stage}: ${code === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    )
    if (stage === 'build' && code !== 0) break
    continue
  }
  const suite = suites[stage]
  const files = suite.dirs.flatMap(testFiles)
  if (files.length === 0) {
    console.log(`${stage}: no test files`)
    continue
  }
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tally-'))
  const tallyFile = join(dir, 'tally.json')
  const code = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${suite.concurrency}`,
      `--test-timeout=${suite.timeout}`,
      '--test-reporter=./test/support/reporter.mjs',
      '--test-reporter-destination=stdout',
      ...files,
    ],
    { TANDEM_TEST_TALLY: tallyFile },
  )
  let tally = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] }
  if (existsSync(tallyFile)) tally = JSON.parse(readFileSync(tallyFile, 'utf8'))
  rmSync(dir, { recursive: true, force: true })
  if (code !== 0 && tally.failed === 0) {
    // The runner failed without a failing test to show for it: count it so it cannot pass silently.
    tally.failed = 1
    tally.failures.push(`${stage}: test runner exited with ${code}`)
  }
  total.passed += tally.passed
  total.failed += tally.failed
  total.skipped += tally.skipped
  failures.push(...tally.failures)
  skips.push(...tally.skips)
  console.log(
    `${stage}: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped in ${((Date.now() - t0) / 1000).toFixed(1)} s (${files.map((f) => relative('test', f)).length} files)`,
  )
}

console.log(`\n── summary (${((Date.now() - started) / 1000).toFixed(0)} s) ${'─'.repeat(40)}`)
if (skips.length) {
  console.log('Skipped:')
  for (const s of skips) console.log(`  - ${s}`)
}
if (failures.length) {
  console.log('Failed:')
  for (const f of failures) console.log(`  ✗ ${f}`)
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`)
process.exitCode = total.failed > 0 ? 1 : 0
