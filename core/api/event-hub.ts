/**
 * A set of listeners for pushed API events, shared by the transport ends: the preload bridge's
 * `subscribe`, the node's own fan-out, a browser client. What arrives passes `validate` before
 * any listener sees it, and one listener that throws does not keep the event from the others.
 *
 * `validate` is a parameter, not a fixed import of the contract's `parseEvent`, because the
 * sandboxed Electron preload cannot load npm modules (zod): there main has already checked each
 * event against the contract and the preload only checks the envelope's shape
 * (`isEventEnvelope`). Everywhere else, pass `parseEvent`. Pure TypeScript (renderer-safe).
 */
import type { ApiEvent } from './contract.js'

export type EventListener = (event: ApiEvent) => void

export interface EventHub {
  /** Adds a listener; the returned function removes it (calling it twice is harmless). */
  subscribe(listener: EventListener): () => void
  /** Validates and delivers; false when the event was dropped as not matching the contract. */
  emit(raw: unknown): boolean
  readonly size: number
  clear(): void
}

export interface EventHubOptions {
  /** Returns the event to deliver, or null to drop it (usually the contract's `parseEvent`). */
  validate: (raw: unknown) => ApiEvent | null
  onListenerError?: (err: unknown) => void
}

export function createEventHub({ validate, onListenerError }: EventHubOptions): EventHub {
  const listeners = new Set<EventListener>()
  return {
    subscribe(listener) {
      // A wrapper per subscription: the same function subscribed twice gets two deliveries and
      // two independent unsubscribes.
      const entry: EventListener = (event) => listener(event)
      listeners.add(entry)
      return () => void listeners.delete(entry)
    },
    emit(raw) {
      const event = validate(raw)
      if (event === null) return false
      for (const listener of [...listeners]) {
        try {
          listener(event)
        } catch (err) {
          onListenerError?.(err)
        }
      }
      return true
    },
    get size() {
      return listeners.size
    },
    clear() {
      listeners.clear()
    },
  }
}

/**
 * The envelope's shape only (`{ event: string, data }`), for a receiver whose sender already
 * checked the data against the contract and that cannot load zod itself.
 */
export function isEventEnvelope(raw: unknown): ApiEvent | null {
  if (raw === null || typeof raw !== 'object') return null
  const { event } = raw as { event?: unknown }
  if (typeof event !== 'string' || event.length === 0 || event.length > 64) return null
  if (!Object.hasOwn(raw, 'data')) return null
  return raw as ApiEvent
}
