/**
 * The local API contract: every request, response and pushed event between the UI (Electron
 * renderer or a browser) and a Tandem node is declared here once, with zod. Types are derived from
 * the schemas, never written twice. Pure TypeScript: no Node and no DOM imports, so the renderer,
 * the Electron shell and the core daemon all share it.
 */
import { z } from 'zod'

export const AppInfo = z.object({
  name: z.literal('tandem'),
  version: z.string(),
  host: z.enum(['electron', 'daemon']),
  platform: z.string(),
  node: z.string(),
})
export type AppInfo = z.infer<typeof AppInfo>

const NoParams = z.object({}).strict()

/** Method name → params and result schemas. Grows append-only: never rename a method. */
export const Methods = {
  'app.info': { params: NoParams, result: AppInfo },
} as const

export type MethodName = keyof typeof Methods
export type MethodParams<M extends MethodName> = z.infer<(typeof Methods)[M]['params']>
export type MethodResult<M extends MethodName> = z.infer<(typeof Methods)[M]['result']>

/** What crosses a transport for one call. `id` pairs a response with its request. */
export const RequestEnvelope = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
})
export type RequestEnvelope = z.infer<typeof RequestEnvelope>

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string }
