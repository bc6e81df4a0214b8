/** Child processes for tests: wait for a line of output, with a deadline, never a sleep. */
import { spawn, type ChildProcess } from 'node:child_process'
import type { TestContext } from 'node:test'

export interface Spawned {
  child: ChildProcess
  output(): string
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function spawnTandem(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, ['core/cli/bin.mjs', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    text += chunk.toString()
    for (const wake of waiters) wake()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake()
      resolve({ code, signal })
    }),
  )
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern)
          if (match) {
            cleanup()
            resolve(match)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup()
            reject(new Error(`process exited before printing ${pattern}; output:\n${text}`))
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${text}`),
          )
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
  }
}

export type JsonEvent = Record<string, unknown> & { event: string }

/** A child that prints one JSON object per line (test/support/*-process.ts scripts). */
export interface JsonProcess {
  child: ChildProcess
  events: JsonEvent[]
  output(): string
  /** Resolves with the first event (already printed or to come) that matches. */
  waitFor(match: (e: JsonEvent) => boolean, what: string, timeoutMs?: number): Promise<JsonEvent>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Runs a TypeScript script through tsx as a child (not a test file: NODE_TEST_CONTEXT removed),
 * collecting the JSON lines it prints as events; SIGKILLed when the test ends if still running.
 * `label` names it in failure messages.
 */
export function spawnJsonProcess(
  t: TestContext,
  script: string,
  args: string[],
  label: string,
): JsonProcess {
  const env = { ...process.env }
  delete env['NODE_TEST_CONTEXT']
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  let partial = ''
  const events: JsonEvent[] = []
  const waiters = new Set<() => void>()
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString()
    partial += chunk.toString()
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      try {
        events.push(JSON.parse(line) as JsonEvent)
      } catch {
        // not an event line
      }
    }
    for (const w of waiters) w()
  })
  child.stderr.on('data', (chunk: Buffer) => void (text += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const w of waiters) w()
      resolve({ code, signal })
    }),
  )
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const tail = () => text.slice(-4000)
  return {
    child,
    events,
    output: () => text,
    exited,
    waitFor(match, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out waiting for ${what}; ${label} output:\n${tail()}`))
        }, timeoutMs)
        const check = () => {
          const e = events.find(match)
          if (e) {
            clearTimeout(timer)
            waiters.delete(check)
            resolve(e)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer)
            waiters.delete(check)
            reject(new Error(`${label} exited before ${what}; output:\n${tail()}`))
          }
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/**
 * Runs the built `tandem` (core/cli/bin.mjs, which loads dist/) to completion: its exit code and
 * its stdout and stderr apart (a `--json` command's stdout is its result). Killed after
 * `timeoutMs`, which then rejects with what it printed.
 */
export function runBuiltTandem(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string; err: string }> {
  const env = { ...process.env }
  delete env['NODE_TEST_CONTEXT']
  const child = spawn(process.execPath, ['core/cli/bin.mjs', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => void (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => void (err += c.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`tandem ${args.join(' ')} ran past ${timeoutMs} ms:\n${out}${err}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err })
    })
  })
}

/**
 * Registers, now, a teardown that stops (SIGTERM, then waits for) the process later passed to the
 * returned function: call it before what must outlive that process (teardown runs in registration
 * order), e.g. a daemon that must stop before its testnet.
 */
export function stopWhenDone(t: TestContext): (spawned: Spawned) => Spawned {
  let held: Spawned | undefined
  t.after(async () => {
    if (held && held.child.exitCode === null && held.child.signalCode === null) {
      held.child.kill('SIGTERM')
      await held.exited
    }
  })
  return (spawned) => (held = spawned)
}
