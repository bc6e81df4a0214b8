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
import { TandemError } from '../../api/errors.js'
import { daemonFilePath, processAlive, readDaemonFile } from '../../server/daemon-file.js'
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

/** A typed client for the daemon named by daemon.json; fails with NODE_NOT_RUNNING if none. */
export async function daemonClient(target: DaemonTarget = {}): Promise<TandemClient> {
  const dir = stateDir(target)
  const info = await readDaemonFile(dir)
  if (info === null) {
    throw new TandemError(
      'NODE_NOT_RUNNING',
      `no Tandem daemon is running (no ${daemonFilePath(dir)}); start one with \`tandem daemon\``,
    )
  }
  const base = `http://127.0.0.1:${info.port}/api/`
  const timeoutMs = target.timeoutMs ?? 30_000
  return createClient({
    async request(method, params): Promise<Outcome<unknown>> {
      let res: Response
      try {
        res = await fetch(base + method, {
          method: 'POST',
          headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(params ?? {}),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') {
          throw new TandemError(
            'NODE_NOT_RUNNING',
            `the daemon on port ${info.port} did not answer ${method} within ${timeoutMs / 1000} s`,
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
          message: 'the daemon refused the token in daemon.json (did it just restart? try again)',
        }
      }
      return body as Outcome<unknown>
    },
  })
}

/** One call to the running daemon. */
export async function callDaemon<M extends MethodName>(
  method: M,
  params: MethodParams<M>,
  target: DaemonTarget = {},
): Promise<MethodResult<M>> {
  return (await daemonClient(target)).call(method, params)
}
