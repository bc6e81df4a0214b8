/**
 * What the UI sees of a round this node works on (contract RoundProgress): granted (fetching its
 * checkpoint), each training step, then uploading and submitted as the participant offers it; and
 * the training loss points the steps report.
 */
import type { LossPoint, RoundProgress } from '../api/contract.js'
import type { ParticipantState, Progress } from './participant/participant.js'

/** The round was granted the engine; its checkpoint and data are being fetched. */
export function granted(project: string, round: number): RoundProgress {
  return {
    project,
    round,
    phase: 'downloading',
    step: 0,
    steps: 0,
    etaSec: null,
    samplesPerSec: 0,
    loss: null,
  }
}

/** A training step of the round. */
export function trainingStep(project: string, p: Progress): RoundProgress {
  return {
    project,
    round: p.round,
    phase: 'training',
    step: p.step,
    steps: p.steps,
    etaSec: p.etaMs / 1000,
    samplesPerSec: p.samplesPerSec,
    loss: Number.isFinite(p.loss) ? p.loss : null,
  }
}

/** The round's progress once its participant is in `state`, or null if that changes nothing. */
export function afterState(progress: RoundProgress, state: ParticipantState): RoundProgress | null {
  if (state === 'publishing') return { ...progress, phase: 'uploading', etaSec: null }
  if (state === 'waiting-ack' || state === 'waiting-receipt')
    return { ...progress, phase: 'submitted', etaSec: null }
  return null
}

/** A step's training loss at `t` (Unix ms), or null when the loss is not finite. */
export function trainLoss(project: string, p: Progress, t: number): LossPoint | null {
  if (!Number.isFinite(p.loss)) return null
  return { t, project, round: p.round, step: p.step, loss: p.loss, kind: 'train' }
}
