/**
 * `tandem project host` run in-process on a loopback testnet, for the CLI tests: a learnable
 * dataset imported into a fresh state dir, a project spec written beside it, the host started with
 * `--json` and its project key read from the `start` event. The tests then drive it with other
 * `tandem` commands (in-process or the built CLI) against the same state dir.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { run } from '../../core/cli/main.js'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { captureIO, type CapturedIO } from './cli-io.js'
import { tempDir } from './data.js'
import { createLearnableDataset } from './host-fixtures.js'
import type { TestNetwork } from './swarm.js'
import { waitUntil } from './wait.js'

/** A small project spec on the learnable dataset (host-fixtures.ts); fields may be replaced. */
export function cliProjectSpec(
  name: string,
  recipe: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    name,
    model: { type: 'mlp', inputSize: 12, hidden: [8], classes: 3, activation: 'tanh' },
    recipe: {
      innerSteps: 8,
      batchSize: 16,
      inner: { peakLr: 0.02, warmupSteps: 1, totalSteps: 100, minLrRatio: 0.1 },
      outer: {},
      roundDeadlineSec: 60,
      minUpdates: 1,
      maxUpdates: 1,
      ...recipe,
    },
    ...extra,
  }
}

export interface HostEvent {
  event: string
  project?: string
  id?: number
  accepted?: number
}

export interface CliHost {
  /** The temp dir holding `data/` (the host's state dir) and `project.json`. */
  dir: string
  data: string
  project: string
  /** The host's output so far. */
  io: CapturedIO
  /** The host's JSON events so far. */
  events(): HostEvent[]
  /** The arguments every command against this state dir and testnet takes. */
  args: string[]
  /** The host command's exit code, once it ends (after `rounds` rounds). */
  exited: Promise<number>
}

export async function startCliHost(
  t: TestContext,
  net: TestNetwork,
  spec: Record<string, unknown>,
  rounds: number,
): Promise<CliHost> {
  const dir = await tempDir(t, 'tandem-cli-host-')
  const data = join(dir, 'data')
  const store = await DatasetStore.open({ dataDir: data })
  const dataset = await createLearnableDataset(store)
  await store.close()
  const file = join(dir, 'project.json')
  await writeFile(file, JSON.stringify(spec))
  const io = captureIO()
  const args = ['--state-dir', data, '--bootstrap', net.bootstrap[0]!, '--json']
  const host = ['project', 'host', '--spec', file, '--dataset', dataset, '--rounds', `${rounds}`]
  const exited = run(['node', 'tandem', ...host, ...args], io)
  const events = () =>
    io.outText
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as HostEvent)
  await waitUntil(() => io.outText.includes('"event":"start"'), 'the host to start', 30_000)
  const project = events().find((e) => e.event === 'start')!.project!
  return { dir, data, project, io, events, args, exited }
}
