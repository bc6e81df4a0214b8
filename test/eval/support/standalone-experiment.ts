/**
 * Lets an experiment module run on its own, without the `npm run eval` runner:
 *   node --import tsx test/eval/experiments/<name>.ts [--quick] [--out dir] [--seed n]
 * writes <out>/<name>.json (default out: eval-out/<name>) and prints the table.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Experiment } from '../types.js'

export function standalone(moduleUrl: string, name: string, run: Experiment): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return
  const args = process.argv.slice(2)
  const value = (flag: string) => {
    const i = args.indexOf(flag)
    return i >= 0 ? args[i + 1] : undefined
  }
  const outDir = resolve(value('--out') ?? join('eval-out', name))
  const started = Date.now()
  void (async () => {
    await mkdir(outDir, { recursive: true })
    const result = await run({
      quick: args.includes('--quick'),
      outDir,
      dataDir: value('--data'),
      log: (line) => console.log(line),
      seed: Number(value('--seed') ?? 1),
    })
    await writeFile(
      join(outDir, `${name}.json`),
      JSON.stringify({ result, seconds: (Date.now() - started) / 1000 }, null, 2),
    )
    console.log(result.table.columns.join(' | '))
    for (const row of result.table.rows) console.log(row.join(' | '))
    for (const t of result.targets)
      console.log(`${t.met ? 'met' : 'MISSED'}: ${t.name}: ${t.target}: ${t.measured}`)
    console.log(
      `wrote ${join(outDir, `${name}.json`)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}
