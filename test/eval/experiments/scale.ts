/**
 * Scale: one round with N contributors, for growing N. The host runs alone in its own process
 * (test/support/host-process.ts --metered) so its memory is its own; the N contributors are
 * hand-driven swarm nodes in this process (test/support/host-fixtures.ts `rawContributor`: each its own
 * corestore, update core and swarm node), each publishing one int8 update and offering it; what
 * the host does with them (download, verdicts, scoring each update on validation, aggregation,
 * outer step, ledger write) is the real thing. Measured: time from the last offer sent to the
 * receipt, host memory, host bytes in and out; then fitted and extrapolated (docs/scale.md).
 */
import crypto from 'hypercore-crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { parameterCount } from '../../../core/host/round.js'
import { createProject } from '../../../core/ledger/ledger.js'
import type { ProjectSpec } from '../../../core/ledger/manifest.js'
import { readCheckpoint, readLedger } from '../../../core/ledger/reader.js'
import { tempDir } from '../../support/data.js'
import {
  createLearnableDataset,
  hostSpec,
  rawContributor,
  smallUpdate,
  type RawContributor,
} from '../../support/host-fixtures.js'
import { spawnJsonProcess, type JsonEvent } from '../../support/process.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'
import { evalScope } from '../support/swarm-run.js'
import type { ExperimentOptions, ExperimentResult } from '../types.js'

const HIDDEN = [128, 128]

async function prepare(
  dir: string,
  n: number,
): Promise<{ project: string; host: Buffer; params: number }> {
  const store = await DatasetStore.open({ dataDir: dir })
  try {
    const dataset = await createLearnableDataset(store)
    const base = hostSpec(dataset, { minUpdates: n, maxUpdates: n, roundDeadlineSec: 600 })
    const spec = { ...base, model: { ...base.model, hidden: HIDDEN } } as ProjectSpec
    const keyPair = crypto.keyPair()
    const project = await createProject(store.corestore, spec, keyPair)
    await writeFile(
      join(dir, 'host.json'),
      JSON.stringify({
        publicKey: keyPair.publicKey.toString('hex'),
        secretKey: keyPair.secretKey.toString('hex'),
        dataset,
      }),
    )
    return { project, host: keyPair.publicKey, params: parameterCount(spec) }
  } finally {
    await store.close()
  }
}

interface Point {
  n: number
  accepted: number
  /** Last offer sent → receipt written. */
  closeSec: number
  /** Round open → receipt written (includes waiting for the contributors to join and offer). */
  roundSec: number
  rssMiB: number
  heapMiB: number
  arrayBuffersMiB: number
  peakRssMiB: number
  idleRssMiB: number
  hostInBytes: number
  hostOutBytes: number
  connections: number
  /** Bytes the ledger grew by in this round (round-open, receipt, checkpoint, momentum). */
  ledgerRoundBytes: number
}

const MiB = 2 ** 20

async function onePoint(o: ExperimentOptions, n: number, seed: number): Promise<Point> {
  const s = evalScope(o.log)
  try {
    const net = await loopbackTestnet(s.t)
    const dir = await tempDir(s.t, 'tandem-scale-')
    const prep = await prepare(dir, n)
    const host = spawnJsonProcess(
      s.t,
      'test/support/host-process.ts',
      [
        dir,
        net.bootstrap[0] as string,
        '--max-peers',
        String(n + 16),
        '--fetch-timeout-ms',
        '60000',
        '--metered',
      ],
      'host',
    )
    const started = await host.waitFor((e) => e.event === 'started', 'the host to start', 60_000)
    const checkpoint = started['checkpoint'] as string
    const contributors: RawContributor[] = []
    // Join in small waves: hundreds of DHT lookups at once on two cores only measure the DHT.
    for (let i = 0; i < n; i += 8) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(8, n - i) }, () => rawContributor(s.t, net, prep.project)),
      )
      contributors.push(...wave)
    }
    await waitUntil(
      () => contributors.every((c) => c.node.peer(prep.host) !== undefined),
      `all ${n} contributors connected to the host`,
      120_000,
      100,
    )
    // Each contributor fetches the round's checkpoint, as a participant does before training (from
    // the host or from any peer that already has it).
    await Promise.all(
      contributors.map(async (c) => {
        const core = c.store.get({ key: Buffer.from(prep.project, 'hex') })
        await core.ready()
        try {
          const state = await readLedger(core, { timeout: 60_000 })
          await readCheckpoint(core, state, 0, { timeout: 60_000 })
        } finally {
          await core.close()
        }
      }),
    )
    const offers = await Promise.all(
      contributors.map((c, i) =>
        c.publish(0, smallUpdate(prep.params, seed * 10_000 + i), checkpoint),
      ),
    )
    offers.forEach((offer, i) => contributors[i]!.offer(offer))
    const sentAt = Date.now()
    const closed = await host.waitFor(
      (e) => e.event === 'round-closed' && e['round'] === 0,
      `round 0 to close with ${n} contributors`,
      600_000,
    )
    const memory = closed['memory'] as NodeJS.MemoryUsage
    const idle = (started['memory'] as NodeJS.MemoryUsage).rss
    const point: Point = {
      n,
      accepted: closed['accepted'] as number,
      closeSec: ((closed['at'] as number) - sentAt) / 1000,
      roundSec: (closed['ms'] as number) / 1000,
      rssMiB: memory.rss / MiB,
      heapMiB: memory.heapUsed / MiB,
      arrayBuffersMiB: memory.arrayBuffers / MiB,
      peakRssMiB: (closed['maxRssKiB'] as number) / 1024,
      idleRssMiB: idle / MiB,
      hostInBytes: closed['bytesDown'] as number,
      hostOutBytes: closed['bytesUp'] as number,
      connections: closed['connections'] as number,
      ledgerRoundBytes: (closed['ledgerBytes'] as number) - (started['ledgerBytes'] as number),
    }
    const warnings = host.events.filter((e: JsonEvent) => e.event === 'warning')
    if (warnings.length)
      o.log(`N=${n}: ${warnings.length} host warnings, first: ${String(warnings[0]!['message'])}`)
    o.log(
      `N=${n}: ${point.accepted} accepted, close ${point.closeSec.toFixed(2)} s, host RSS ${point.rssMiB.toFixed(0)} MiB (peak ${point.peakRssMiB.toFixed(0)}), in ${point.hostInBytes} B, out ${point.hostOutBytes} B`,
    )
    return point
  } finally {
    await s.close()
  }
}

/** Least-squares line y = a + b·x. */
export function fitLine(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length
  const mx = xs.reduce((p, x) => p + x, 0) / n
  const my = ys.reduce((p, y) => p + y, 0) / n
  let sxy = 0
  let sxx = 0
  xs.forEach((x, i) => {
    sxy += (x - mx) * ((ys[i] as number) - my)
    sxx += (x - mx) ** 2
  })
  const b = sxx === 0 ? 0 : sxy / sxx
  return { a: my - b * mx, b }
}

export async function run(o: ExperimentOptions): Promise<ExperimentResult> {
  const sizes = o.quick ? [2, 6] : [4, 8, 16, 32, 64, 96, 128]
  const points: Point[] = []
  const failures: { n: number; error: string }[] = []
  for (const n of sizes) {
    try {
      points.push(await onePoint(o, n, o.seed))
    } catch (err) {
      // A size that does not fit (peers that never meet the host, a round that never closes) is a
      // finding, not the end of the experiment: the fit uses the sizes that ran.
      const error = err instanceof Error ? err.message.split('\n')[0]! : String(err)
      o.log(`N=${n}: failed: ${error}`)
      failures.push({ n, error })
      break
    }
  }
  if (points.length < 2) throw new Error(`fewer than two sizes ran: ${JSON.stringify(failures)}`)
  const xs = points.map((p) => p.n)
  const fits = {
    closeSec: fitLine(
      xs,
      points.map((p) => p.closeSec),
    ),
    rssMiB: fitLine(
      xs,
      points.map((p) => p.rssMiB),
    ),
    hostInBytes: fitLine(
      xs,
      points.map((p) => p.hostInBytes),
    ),
    hostOutBytes: fitLine(
      xs,
      points.map((p) => p.hostOutBytes),
    ),
    ledgerRoundBytes: fitLine(
      xs,
      points.map((p) => p.ledgerRoundBytes),
    ),
  }
  const at = (f: { a: number; b: number }, n: number) => f.a + f.b * n
  const extrapolated = [1000, 10_000].map((n) => ({
    n,
    closeSec: at(fits.closeSec, n),
    rssMiB: at(fits.rssMiB, n),
    hostInBytes: at(fits.hostInBytes, n),
    hostOutBytes: at(fits.hostOutBytes, n),
    ledgerRoundBytes: at(fits.ledgerRoundBytes, n),
  }))
  const params = parameterCount({
    model: { type: 'mlp', inputSize: 12, hidden: HIDDEN, classes: 3, activation: 'tanh' },
  } as never)
  const grid = [...xs, 100, 200, 1000]
  const line = (f: { a: number; b: number }) => grid.map((n) => at(f, n))
  return {
    name: 'scale',
    title: 'Scale: one round against the number of contributors',
    table: {
      columns: [
        'contributors',
        'accepted',
        'close s (last offer → receipt)',
        'host RSS MiB at close',
        'host peak RSS MiB',
        'host heap MiB',
        'host bytes in',
        'host bytes out',
        'host connections',
        'ledger bytes this round',
      ],
      rows: [
        ...points.map((p) => [
          p.n,
          p.accepted,
          round(p.closeSec, 2),
          round(p.rssMiB, 1),
          round(p.peakRssMiB, 1),
          round(p.heapMiB, 1),
          p.hostInBytes,
          p.hostOutBytes,
          p.connections,
          p.ledgerRoundBytes,
        ]),
        ...extrapolated.map((e) => [
          `${e.n.toLocaleString('en-US')} (linear fit)`,
          null,
          round(e.closeSec, 1),
          round(e.rssMiB, 0),
          null,
          null,
          Math.round(e.hostInBytes),
          Math.round(e.hostOutBytes),
          null,
          Math.round(e.ledgerRoundBytes),
        ]),
      ],
    },
    targets: [],
    plots: [
      {
        file: 'close-time',
        title: 'Round close time against contributors',
        xLabel: 'contributors',
        yLabel: 'seconds from the last offer to the receipt',
        series: [
          { label: 'measured', x: xs, y: points.map((p) => p.closeSec) },
          { label: 'linear fit', x: grid, y: line(fits.closeSec) },
        ],
      },
      {
        file: 'host-memory',
        title: 'Host memory at round close against contributors',
        xLabel: 'contributors',
        yLabel: 'MiB',
        series: [
          { label: 'RSS', x: xs, y: points.map((p) => p.rssMiB) },
          { label: 'peak RSS', x: xs, y: points.map((p) => p.peakRssMiB) },
          { label: 'RSS linear fit', x: grid, y: line(fits.rssMiB) },
        ],
      },
      {
        file: 'host-bytes',
        title: 'Host bytes in and out for one round against contributors',
        xLabel: 'contributors',
        yLabel: 'bytes',
        logY: true,
        series: [
          { label: 'in (measured)', x: xs, y: points.map((p) => p.hostInBytes) },
          { label: 'out (measured)', x: xs, y: points.map((p) => p.hostOutBytes) },
          { label: 'in (linear fit)', x: grid, y: line(fits.hostInBytes) },
          { label: 'out (linear fit)', x: grid, y: line(fits.hostOutBytes) },
        ],
      },
    ],
    details: { hidden: HIDDEN, parameters: params, points, failures, fits, extrapolated },
    notes: [
      `Model: MLP 12 → ${HIDDEN.join(' → ')} → 3 (${params.toLocaleString()} parameters, int8 update ≈ ${(params + 4 * Math.ceil(params / 256) + 16).toLocaleString()} bytes). One round per N, the host in its own process (maxPeers raised to N + 16: the default of 64 peers would cap a host at 63 contributors), the N contributors as raw swarm nodes in the eval process, all on a loopback testnet on the same 2 cores, so close times include contention with the contributors' own processing.`,
      "Host bytes are the host node's RateLimiter counters from its start to the receipt: serving the manifest, the ledger and the round's fp32 checkpoint to joining contributors (each fetches it before offering, from the host or from a peer that has it, as participants do), and downloading every update. The contributors here do not download dataset shards (they do not train), so a real round adds the shards the host seeds. Memory is process.memoryUsage() of the host process at the receipt; peak RSS is getrusage's maximum since it started.",
      'The lines are least-squares fits over the measured N, extrapolated to 1,000 and 10,000 contributors; docs/scale.md reads them (and what does not fit a line) on paper.',
      ...failures.map(
        (f) => `N = ${f.n} did not complete: ${f.error} (larger sizes were not tried).`,
      ),
      ...(o.quick ? ['Quick variant: N ∈ {2, 6}.'] : []),
    ],
  }
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits
