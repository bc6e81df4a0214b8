/**
 * `npm run bench:aggregate`: aggregate 100 int8-compressed updates of a 1M-parameter model with each
 * rule; seconds and peak memory per rule. The updates are 90 honest ones (a shared direction plus
 * noise) and 10 sign-flipped ×10, so the robust rules actually clip, trim and reject.
 *
 * Peak memory is honest per rule: the parent writes the encoded updates to a temp file once, then
 * runs each rule in its own child process, which loads them (one buffer, the updates are views into
 * it, kept compressed as in the host) and reports process.resourceUsage().maxRSS, the kernel's
 * high-water mark of resident memory, before and after aggregating. Seconds are the wall time of
 * aggregate() alone. AGG_BENCH_PARAMS and AGG_BENCH_UPDATES shrink the run while developing.
 * Last line: one JSON object.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { aggregate, type AggregationConfig } from '../../core/aggregate/aggregate.js'
import { encode, encodedSize } from '../../core/engine/compress/codec.js'
import { quantizeInt8 } from '../../core/engine/compress/quantize.js'
import { seededRandom } from '../../core/engine/model/init.js'

const PARAMS = Number(process.env.AGG_BENCH_PARAMS ?? 1_000_000)
const UPDATES = Number(process.env.AGG_BENCH_UPDATES ?? 100)
const ATTACKERS = Math.round(UPDATES / 10)
const BLOCK = 256
const RULES: AggregationConfig[] = [
  { rule: 'mean' },
  { rule: 'median' },
  { rule: 'trimmed-mean' },
  { rule: 'centered-clip' },
  { rule: 'multi-krum' },
]

interface ChildReport {
  rule: string
  seconds: number
  baselineMB: number
  peakMB: number
  clipped: number
  selected: number
}

const mb = (kb: number) => Math.round(kb / 1024)

function generate(file: string): number {
  const rand = seededRandom(7)
  // Box–Muller from a seeded generator: the same updates on every run and machine.
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const direction = Float32Array.from({ length: PARAMS }, () => 1e-3 * gauss())
  const size = encodedSize(quantizeInt8(new Float32Array(PARAMS), BLOCK))
  const all = Buffer.alloc(size * UPDATES)
  const x = new Float32Array(PARAMS)
  for (let u = 0; u < UPDATES; u++) {
    const flip = u >= UPDATES - ATTACKERS ? -10 : 1
    for (let j = 0; j < PARAMS; j++) x[j] = flip * ((direction[j] as number) + 1e-3 * gauss())
    const bytes = encode(quantizeInt8(x, BLOCK))
    all.set(bytes, u * size)
  }
  writeFileSync(file, all)
  return size
}

function child(file: string, size: number, index: number): void {
  const config = RULES[index] as AggregationConfig
  const all = readFileSync(file)
  const updates = Array.from({ length: UPDATES }, (_, u) => ({
    update: all.subarray(u * size, (u + 1) * size),
    weight: 1 + (u % 3), // stands in for samples × reputation
  }))
  const baseline = process.resourceUsage().maxRSS
  const t0 = performance.now()
  const result = aggregate(updates, config)
  const seconds = (performance.now() - t0) / 1000
  const report: ChildReport = {
    rule: config.rule,
    seconds: Math.round(seconds * 100) / 100,
    baselineMB: mb(baseline),
    peakMB: mb(process.resourceUsage().maxRSS),
    clipped: result.updates.filter((d) => d.clipped).length,
    selected: result.updates.filter((d) => d.selected).length,
  }
  process.stdout.write(JSON.stringify(report) + '\n')
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-agg-bench-'))
  try {
    const file = join(dir, 'updates.bin')
    const t0 = performance.now()
    const size = generate(file)
    console.log(
      `${UPDATES} int8 updates (block ${BLOCK}) of ${PARAMS} parameters, ${ATTACKERS} sign-flipped ×10; ` +
        `${(size / 1e6).toFixed(2)} MB each; generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `${availableParallelism()} cores`,
    )
    const reports: ChildReport[] = []
    for (let i = 0; i < RULES.length; i++) {
      const out = spawnSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', file, String(size), String(i)],
        { encoding: 'utf8', env: process.env, maxBuffer: 1 << 20 },
      )
      if (out.status !== 0) throw new Error(`rule ${RULES[i]?.rule} failed:\n${out.stderr}`)
      reports.push(JSON.parse(out.stdout.trim().split('\n').pop() as string) as ChildReport)
    }
    console.log('')
    console.log('rule           seconds   peak MB   before aggregating MB   clipped   selected')
    for (const r of reports)
      console.log(
        `${r.rule.padEnd(14)} ${r.seconds.toFixed(2).padStart(7)}   ${String(r.peakMB).padStart(7)}   ` +
          `${String(r.baselineMB).padStart(21)}   ${String(r.clipped).padStart(7)}   ${String(r.selected).padStart(8)}`,
      )
    console.log('')
    console.log(
      JSON.stringify({
        updates: UPDATES,
        params: PARAMS,
        encoding: `int8/${BLOCK}`,
        cores: availableParallelism(),
        seconds: Object.fromEntries(reports.map((r) => [r.rule, r.seconds])),
        peakMB: Object.fromEntries(reports.map((r) => [r.rule, r.peakMB])),
        baselineMB: Object.fromEntries(reports.map((r) => [r.rule, r.baselineMB])),
        memory: 'maxRSS of one child process per rule',
      }),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'child')
  child(process.argv[3] as string, Number(process.argv[4]), Number(process.argv[5]))
else main()
