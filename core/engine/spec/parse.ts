/**
 * The one way into a ModelSpec: from JSON text or from an already-decoded value. Every rejection is
 * coded: unknown model/layer type, non-finite numbers, oversize input or model, or anything else
 * invalid.
 */
import { TandemError } from '../../api/errors.js'
import { countParams } from './cost.js'
import { ModelSpec, SPEC_LIMITS } from './schema.js'

export function parseSpecJson(text: string): ModelSpec {
  const bytes = new TextEncoder().encode(text).byteLength
  if (bytes > SPEC_LIMITS.maxJsonBytes) {
    throw new TandemError(
      'SPEC_TOO_LARGE',
      `Model spec is ${bytes} bytes; the limit is ${SPEC_LIMITS.maxJsonBytes}`,
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new TandemError('SPEC_INVALID', `Model spec is not valid JSON: ${(err as Error).message}`)
  }
  return parseSpec(value)
}

export function parseSpec(value: unknown): ModelSpec {
  const badNumber = findNonFinite(value, '', 0)
  if (badNumber !== undefined) {
    throw new TandemError(
      'SPEC_NON_FINITE',
      `Model spec has a non-finite number at ${badNumber || '(root)'}`,
    )
  }
  const parsed = ModelSpec.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const at = issue?.path.length ? issue.path.join('.') : '(root)'
    // A discriminated union that matched no option means a model or layer type we do not know.
    if (issue?.code === 'invalid_union' && 'discriminator' in issue) {
      throw new TandemError(
        'SPEC_UNKNOWN_LAYER',
        `Unknown model or layer type at ${at}: ${JSON.stringify(valueAt(value, issue.path))}`,
      )
    }
    throw new TandemError(
      'SPEC_INVALID',
      `Invalid model spec at ${at}: ${issue?.message ?? 'invalid'}`,
    )
  }
  const params = countParams(parsed.data)
  if (params > SPEC_LIMITS.maxParams) {
    throw new TandemError(
      'SPEC_TOO_LARGE',
      `Model has ${params} parameters; the limit is ${SPEC_LIMITS.maxParams}`,
    )
  }
  return parsed.data
}

/** Path of the first NaN/Infinity in a decoded value (JSON cannot hold one, a decoded object can). */
function findNonFinite(value: unknown, path: string, depth: number): string | undefined {
  if (depth > 16) return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, child] of Object.entries(value)) {
    const found = findNonFinite(child, path ? `${path}.${key}` : key, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur = value
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<PropertyKey, unknown>)[key]
  }
  return cur
}
