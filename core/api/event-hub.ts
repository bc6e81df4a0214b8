/**
 * A set of listeners for pushed API events, shared by every transport end: the preload bridge's
 * `subscribe`, the browser's WebSocket client and the node's own fan-out. Whatever arrives is
 * validated against the contract (`parseEvent`) before any listener sees it, and one listener
 * that throws does not keep the event from the others. Pure TypeScript (renderer-safe).
 */
import { parseEvent, type ApiEvent } from './contract.js'

export type EventListener = (event: ApiEvent) => void

export interface EventHub {
  /** Adds a listener; the returned function removes it (calling it twice is harmless). */
  subscribe(listener: EventListener): () => void
  /** Validates and delivers; false when the event was dropped as not matching the contract. */
  emit(raw: unknown): boolean
  readonly size: number
  clear(): void
}

export function createEventHub(onListenerError?: (err: unknown) => void): EventHub {
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
      const event = parseEvent(raw)
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
