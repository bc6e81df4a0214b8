import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface PackageInfo {
  name: string
  version: string
  root: string
}

let cached: PackageInfo | undefined

/**
 * Finds Tandem's own package.json by walking up from this file, so the answer is the same whether
 * the code runs from source (core/util) or from the build (dist/core/util).
 */
export function packageInfo(): PackageInfo {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(
        readFileSync(join(dir, 'package.json'), 'utf8'),
      ) as Partial<PackageInfo>
      if (pkg.name === 'tandem' && typeof pkg.version === 'string') {
        cached = { name: pkg.name, version: pkg.version, root: dir }
        return cached
      }
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('tandem package.json not found above ' + import.meta.url)
    dir = parent
  }
}
