/**
 * What main and the node's utility process say to each other over their MessagePort. Main
 * forwards the renderer's contract calls (already sender-checked) and reports the desktop session;
 * the node answers calls and pushes its events.
 */
import type { Outcome } from '../../core/api/contract.js'
import type { ShellEnvironment } from '../../core/api/shell.js'
import type { NodeHostOptions } from './node-host.js'

/** The first message main posts to the utility process, with the port (parentPort). */
export interface NodeInit {
  type: 'init'
  options: NodeHostOptions
}

export type ToNode =
  | { type: 'request'; id: number; payload: unknown }
  | { type: 'environment'; env: ShellEnvironment }
  | { type: 'network'; action: 'suspend' | 'resume' }
  | { type: 'stop' }

export type FromNode =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'event'; event: unknown }
  | { type: 'reply'; id: number; outcome: Outcome<unknown> }
  | { type: 'stopped' }

const FROM_NODE = new Set(['ready', 'failed', 'event', 'reply', 'stopped'])
const TO_NODE = new Set(['request', 'environment', 'network', 'stop'])

function typed(value: unknown, types: Set<string>): value is { type: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    types.has(String((value as { type?: unknown }).type))
  )
}

export function isFromNode(value: unknown): value is FromNode {
  if (!typed(value, FROM_NODE)) return false
  if (value.type === 'reply') return typeof (value as { id?: unknown }).id === 'number'
  return true
}

export function isToNode(value: unknown): value is ToNode {
  if (!typed(value, TO_NODE)) return false
  if (value.type === 'request') return typeof (value as { id?: unknown }).id === 'number'
  return true
}

export function isNodeInit(value: unknown): value is NodeInit {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { type?: unknown; options?: { appPath?: unknown; userData?: unknown } }
  return (
    v.type === 'init' &&
    typeof v.options?.appPath === 'string' &&
    typeof v.options.userData === 'string'
  )
}
