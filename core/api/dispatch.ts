/**
 * Transport-independent request handling: parse the envelope, check the method exists, validate the
 * params against the contract, run the handler, validate what it returns. Every failure becomes a
 * coded Outcome; nothing a caller sends can throw out of here.
 */
import {
  Methods,
  RequestEnvelope,
  type MethodName,
  type MethodParsedParams,
  type MethodResult,
  type Outcome,
} from './contract.js'
import { isTandemError } from './errors.js'

export type Handler<M extends MethodName> = (
  params: MethodParsedParams<M>,
) => Promise<MethodResult<M>> | MethodResult<M>

/** A full node serves every method; a host may serve a subset (the rest answer UNKNOWN_METHOD). */
export type Handlers = { [M in MethodName]: Handler<M> }

function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(Methods, name)
}

export async function dispatch(
  handlers: Partial<Handlers>,
  raw: unknown,
): Promise<Outcome<unknown>> {
  const envelope = RequestEnvelope.safeParse(raw)
  if (!envelope.success) {
    return { ok: false, code: 'BAD_REQUEST', message: 'Malformed request envelope' }
  }
  const { method, params } = envelope.data
  if (!isMethodName(method) || !handlers[method]) {
    return { ok: false, code: 'UNKNOWN_METHOD', message: `Unknown method: ${method}` }
  }
  return callMethod(handlers, method, params)
}

async function callMethod<M extends MethodName>(
  handlers: Partial<Handlers>,
  method: M,
  rawParams: unknown,
): Promise<Outcome<MethodResult<M>>> {
  const spec = Methods[method]
  const params = spec.params.safeParse(rawParams ?? {})
  if (!params.success) {
    const first = params.error.issues[0]
    const where = first?.path.length ? ` at ${first.path.join('.')}` : ''
    return {
      ok: false,
      code: 'BAD_ARGUMENT',
      message: `${method}: ${first?.message ?? 'invalid params'}${where}`,
    }
  }
  try {
    const handler = handlers[method] as Handler<M>
    const value = await handler(params.data as MethodParsedParams<M>)
    const checked = spec.result.safeParse(value)
    if (!checked.success) {
      return {
        ok: false,
        code: 'INTERNAL',
        message: `${method}: handler returned an invalid result`,
      }
    }
    return { ok: true, value: checked.data as MethodResult<M> }
  } catch (err) {
    if (isTandemError(err)) return { ok: false, code: err.code, message: err.message }
    return { ok: false, code: 'INTERNAL', message: `${method} failed` }
  }
}
