/**
 * Calls an event's listeners like EventEmitter#emit, but keeps what they return. EventEmitter
 * drops a listener's promise: its work would not count as in flight (so the inbound limit could
 * never trigger) and its rejection would be unhandled, which ends the process. Here every listener
 * runs even if an earlier one throws, and the result settles once all async ones have.
 */
import type { EventEmitter } from 'node:events'

/**
 * Runs every listener of `event`. Returns nothing when all were synchronous and none threw; throws
 * (or, with async listeners, rejects with) the one error, or an AggregateError for several.
 */
export function callListeners(
  emitter: EventEmitter,
  event: string,
  args: unknown[],
): void | Promise<void> {
  const errors: unknown[] = []
  const pending: Array<Promise<unknown>> = []
  // rawListeners: calling a `once` wrapper also removes it, as emit does.
  for (const listener of emitter.rawListeners(event) as Array<(...a: unknown[]) => unknown>) {
    try {
      const result = listener.apply(emitter, args)
      if (result instanceof Promise) pending.push(result.catch((err: unknown) => errors.push(err)))
    } catch (err) {
      errors.push(err)
    }
  }
  const settle = () => {
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} listeners failed`)
  }
  if (pending.length === 0) return settle()
  return Promise.all(pending).then(settle)
}
