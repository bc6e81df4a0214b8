/**
 * A contributor node in its own process, for tests that kill it (kill -9) and start it again:
 *
 *   node --import tsx test/support/node-process.ts <home> <bootstrap host:port> [options JSON]
 *
 * It runs startNode (core/cli/commands/node.ts, what `tandem start` runs) on the home dir, on the
 * cpu backend with one thread. Options: `join` (project keys to join, with `share`), `settings` (a
 * settings patch applied once started). Prints one JSON line per thing a test waits for: `started`
 * (key, joined projects, settings, receipts and recovered state as loaded), then the node's
 * `progress` (training steps), `phase` (a round's other phases: downloading, uploading,
 * submitted), `receipt`, `offer` (each offer's status) and `warn` (node log warnings) events.
 * SIGTERM stops it cleanly (`stopped`).
 */
import { startNode } from '../../core/cli/commands/node.js'

const [home, bootstrap, json] = process.argv.slice(2)
if (!home || !bootstrap) {
  process.stderr.write('usage: node-process.ts <home> <bootstrap host:port> [options JSON]\n')
  process.exit(2)
}
const options = (json ? JSON.parse(json) : {}) as {
  join?: string[]
  share?: number
  settings?: Record<string, unknown>
}
const say = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...fields })}\n`)

const running = await startNode(
  {
    home,
    bootstrap: [bootstrap],
    join: options.join ?? [],
    ...(options.share !== undefined ? { share: String(options.share) } : {}),
    backend: 'cpu',
    threads: '1',
  },
  false,
)
const { node } = running
node.log.on('entry', (e) => {
  if (e.level === 'warn' || e.level === 'error') say('warn', { msg: e.msg })
})
node.on('event', (e) => {
  if (e.event === 'progress' && e.data.phase === 'training' && e.data.step > 0)
    say('progress', { project: e.data.project, round: e.data.round, step: e.data.step })
  else if (e.event === 'progress' && e.data.phase !== 'training')
    say('phase', { project: e.data.project, round: e.data.round, phase: e.data.phase })
  else if (e.event === 'receipt') say('receipt', { ...e.data })
})
for (const p of node.joinedProjects()) {
  node
    .participant(p.key)
    ?.on('offer', (o) =>
      say('offer', { project: p.key, round: o.round, hash: o.hash, status: o.status }),
    )
}
if (options.settings) await node.settings.update(options.settings)
const state = node.state.get()
say('started', {
  key: node.identity.publicKey.toString('hex'),
  projects: node.joinedProjects(),
  settings: node.settings.get(),
  receipts: state.receipts.map((r) => ({ project: r.project, round: r.round })),
  recovered: node.state.recovered?.message ?? null,
})

process.once('SIGTERM', () => {
  void running.stop().then(() => {
    say('stopped')
    process.exit(0)
  })
})
