import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

/** Where tests leave screenshots and logs for people to look at (ignored by git). */
export function artifactPath(name: string): string {
  const dir = join(process.cwd(), 'test-results')
  mkdirSync(dir, { recursive: true })
  return join(dir, name)
}
