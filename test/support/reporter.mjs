// A node:test reporter: one line per test, failures with their error, skipped tests with their
// reason, and a JSON tally written to $TANDEM_TEST_TALLY for test/run.mjs to add up.
// Only leaf tests count; a suite or file that fails without a failing test inside it (a crash at
// load or in a hook) counts as one failure so it can never vanish from the total.
import { writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { inspect } from 'node:util'

const color = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text)

function describeError(error) {
  const cause = error?.cause ?? error
  if (cause instanceof Error) return cause.stack ?? cause.message
  return inspect(cause, { depth: 4 })
}

export default async function* reporter(source) {
  const tally = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] }
  // Per file and depth: did a child finish / fail since the last test at this depth finished?
  const state = new Map()
  const stateOf = (file) => {
    if (!state.has(file)) state.set(file, { childSeen: [], childFailed: [] })
    return state.get(file)
  }

  for await (const event of source) {
    if (event.type === 'test:stderr' || event.type === 'test:stdout') {
      yield event.data.message
      continue
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const { name, nesting, file, skip, todo, details } = event.data
    const where = file ? relative(process.cwd(), file) : '?'
    const s = stateOf(where)
    const failed = event.type === 'test:fail'
    const skipped = skip !== undefined || todo !== undefined
    // A skipped suite reports no children: it counts as one skipped test, with its reason.
    const isLeaf = !s.childSeen[nesting + 1] && (details?.type !== 'suite' || skipped || failed)
    const subtreeFailed = Boolean(s.childFailed[nesting + 1])
    s.childSeen[nesting + 1] = false
    s.childFailed[nesting + 1] = false
    s.childSeen[nesting] = true
    if (failed) s.childFailed[nesting] = true

    const indent = '  '.repeat(nesting)
    const ms =
      details?.duration_ms === undefined
        ? ''
        : paint(90, ` (${Math.round(details.duration_ms)} ms)`)
    if (!isLeaf) {
      if (failed && !subtreeFailed) {
        tally.failed++
        tally.failures.push(`${where} › ${name}`)
        yield `${indent}${paint(31, '✗')} ${name} ${paint(31, '(failed outside any test)')}\n${indent}  ${describeError(details?.error).replaceAll('\n', `\n${indent}  `)}\n`
      }
      continue
    }
    if (skipped) {
      const reason =
        typeof skip === 'string'
          ? skip
          : typeof todo === 'string'
            ? `todo: ${todo}`
            : 'no reason given'
      tally.skipped++
      tally.skips.push(`${where} › ${name}: ${reason}`)
      yield `${indent}${paint(33, '-')} ${name} ${paint(33, `[skipped: ${reason}]`)}\n`
    } else if (failed) {
      tally.failed++
      tally.failures.push(`${where} › ${name}`)
      yield `${indent}${paint(31, '✗')} ${name}${ms}\n${indent}  ${describeError(details?.error).replaceAll('\n', `\n${indent}  `)}\n`
    } else {
      tally.passed++
      yield `${indent}${paint(32, '✓')} ${name}${ms}\n`
    }
  }
  if (process.env.TANDEM_TEST_TALLY)
    writeFileSync(process.env.TANDEM_TEST_TALLY, JSON.stringify(tally))
}
