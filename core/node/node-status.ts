/**
 * The node's activity and its reason, as status shows them, in order of precedence: the person's
 * pause, then the run policy (battery, schedule, idle-only), no network yet, a round training, no
 * project joined, else waiting (with what the first project waits for).
 */
import type { NodeActivity } from '../api/contract.js'
import type { RunDecision } from './policy.js'

export interface ActivityInput {
  userPaused: boolean
  decision: RunDecision
  /** Offline with no peer. */
  offline: boolean
  /** The project whose round trains (its name if known), or null. */
  training: { name: string | undefined; round: number | undefined } | null
  joined: number
  /** What the first joined project is doing (its participant's status detail). */
  firstDetail: () => string
}

export function activityOf(input: ActivityInput): { activity: NodeActivity; reason: string } {
  if (input.userPaused) return { activity: 'paused', reason: 'paused by you' }
  const { decision, training } = input
  if (!decision.run) return { activity: decision.activity, reason: decision.reason }
  if (input.offline) return { activity: 'offline', reason: 'not connected to the network yet' }
  if (training)
    return {
      activity: 'training',
      reason: `${training.name ?? 'project'}: round ${training.round ?? '?'}`,
    }
  if (input.joined === 0) return { activity: 'idle', reason: 'no project joined' }
  return { activity: 'waiting', reason: input.firstDetail() || 'waiting for the next round' }
}
