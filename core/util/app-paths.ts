import envPaths from 'env-paths'

export interface AppPaths {
  data: string
  config: string
  log: string
  temp: string
}

/**
 * Where a node keeps its state. TANDEM_HOME overrides everything (tests, several nodes on one
 * machine); otherwise the platform's conventional directories (XDG on Linux, Application Support on
 * macOS, AppData on Windows).
 */
export function appPaths(env: NodeJS.ProcessEnv = process.env): AppPaths {
  const home = env['TANDEM_HOME']
  if (home) {
    return {
      data: `${home}/data`,
      config: `${home}/config`,
      log: `${home}/log`,
      temp: `${home}/tmp`,
    }
  }
  const p = envPaths('tandem', { suffix: '' })
  return { data: p.data, config: p.config, log: p.log, temp: p.temp }
}
