/**
 * The typed client side of the contract. A transport only has to move envelopes; this turns an
 * Outcome back into a value or a coded error, so UI code awaits plain results.
 */
import type { MethodName, MethodParams, MethodResult, Outcome } from './contract.js'
import { ErrorCodes, TandemError, type ErrorCode } from './errors.js'

export interface Transport {
  request(method: string, params: unknown): Promise<Outcome<unknown>>
}

export interface TandemClient {
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>
}

function asErrorCode(code: string): ErrorCode {
  return (ErrorCodes as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL'
}

export function createClient(transport: Transport): TandemClient {
  return {
    async call(method, params) {
      const outcome = await transport.request(method, params)
      if (!outcome.ok) throw new TandemError(asErrorCode(outcome.code), outcome.message)
      // The node validated the result against the contract before sending it.
      return outcome.value as MethodResult<typeof method>
    },
  }
}
