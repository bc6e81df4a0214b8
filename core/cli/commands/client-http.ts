/**
 * How the CLI talks to a running daemon: daemon.json (written by the daemon, mode 0600) gives the
 * port and the token; each call is one `POST /api/<method>` on 127.0.0.1 with the token as a
 * bearer, answered with the contract's Outcome. The typed client from core/api turns that into a
 * value or a coded TandemError, exactly as the UI sees it.
 *
 * "No daemon" is the common failure and gets one code, NODE_NOT_RUNNING, with the reason: no
 * daemon.json, or one left by a daemon that is gone (nothing answers on its port; its pid is
 * checked to say whether it crashed).
 */
import type { MethodName, MethodParams, MethodResult, Outcome } from '../../api/contract.js'
import { createClient, type TandemClient } from '../../api/client.js'
import { ErrorCodes, TandemError, type ErrorCode } from '../../api/errors.js'
import { ROTATE_TOKEN_PATH } from '../../server/api-server.js'
import {
  daemonFilePath,
  processAlive,
  readDaemonFile,
  type DaemonInfo,
} from '../../server/daemon-file.js'
import { appPaths } from '../../util/app-paths.js'

export interface DaemonTarget {
  /** Like TANDEM_HOME: the daemon's state lives in <home>/data. Default: appPaths(). */
  home?: string
  /** Per call (default 30 s: settings and status answer at once; verify may take longer). */
  timeoutMs?: number
}

function stateDir(target: DaemonTarget): string {
  return appPaths(target.home ? { TANDEM_HOME: target.home } : process.env).data
}

/** The daemon named by daemon.json; fails with NODE_NOT_RUNNING if there is none. */
async function runningDaemon(dir: string): Promise<DaemonInfo> {
  const info = await readDaemonFile(dir)
  if (info === null) {
    throw new TandemError(
      'NODE_NOT_RUNNING',
      `no Tandem daemon is running (no ${daemonFilePath(dir)}); start one with \`tandem daemon\``,
    )
  }
  return info
}

/** One `POST <path>` to the daemon with its token; its JSON Outcome (401 with a hint). */
async function post(
  info: DaemonInfo,
  path: string,
  params: unknown,
  timeoutMs: number,
): Promise<Outcome<unknown>> {
  let res: Response
  try {
    res = await fetch(`http://127.0.0.1:${info.port}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(params ?? {}),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') {
      throw new TandemError(
        'NODE_NOT_RUNNING',
        `the daemon on port ${info.port} did not answer ${path} within ${timeoutMs / 1000} s`,
      )
    }
    const why = processAlive(info.pid)
      ? `process ${info.pid} is alive but does not answer on port ${info.port}`
      : `process ${info.pid} is gone: the daemon stopped without cleaning up`
    throw new TandemError(
      'NODE_NOT_RUNNING',
      `no Tandem daemon answers (${why}); start one with \`tandem daemon\``,
      { cause: err },
    )
  }
  let body: unknown
  try {
    body = await res.json()
  } catch {
    throw new TandemError('BAD_REQUEST', `port ${info.port} answered ${res.status}, not JSON`)
  }
  if (res.status === 401) {
    return {
      ok: false,
      code: 'UNAUTHORIZED',
      message:
        'the daemon refused the token in daemon.json (did it just restart or rotate it? try again)',
    }
  }
  return body as Outcome<unknown>
}

/** A typed client for the daemon named by daemon.json; fails with NODE_NOT_RUNNING if none. */
export async function daemonClient(target: DaemonTarget = {}): Promise<TandemClient> {
  const info = await runningDaemon(stateDir(target))
  const timeoutMs = target.timeoutMs ?? 30_000
  return createClient({
    request: (method, params) => post(info, `/api/${method}`, params, timeoutMs),
  })
}

/**
 * Asks the running daemon for a new token (POST /api/server/rotate-token with the current one).
 * The daemon rewrites daemon.json before it answers; returns what the file now holds.
 */
export async function rotateDaemonToken(
  target: DaemonTarget = {},
): Promise<{ file: string; info: DaemonInfo }> {
  const dir = stateDir(target)
  const before = await runningDaemon(dir)
  const outcome = await post(before, ROTATE_TOKEN_PATH, {}, target.timeoutMs ?? 30_000)
  if (!outcome.ok) throw new TandemError(knownCode(outcome.code), outcome.message)
  const info = await runningDaemon(dir)
  return { file: daemonFilePath(dir), info }
}

/** The URL of the running daemon's UI with its token, from daemon.json. */
export async function daemonUiUrl(target: DaemonTarget = {}): Promise<string> {
  const dir = stateDir(target)
  const info = await runningDaemon(dir)
  if (!processAlive(info.pid)) {
    throw new TandemError(
      'NODE_NOT_RUNNING',
      `the daemon that wrote ${daemonFilePath(dir)} (process ${info.pid}) is gone; start one with \`tandem daemon\``,
    )
  }
  return `http://127.0.0.1:${info.port}/#token=${info.token}`
}

function knownCode(code: string): ErrorCode {
  return (ErrorCodes as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL'
}

/** One call to the running daemon. */
export async function callDaemon<M extends MethodName>(
  method: M,
  params: MethodParams<M>,
  target: DaemonTarget = {},
): Promise<MethodResult<M>> {
  return (await daemonClient(target)).call(method, params)
}
