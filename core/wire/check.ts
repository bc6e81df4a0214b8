/**
 * The semantic check that follows every decode: lengths, ranges, character sets, cross-field rules.
 * A decoded message is only trusted after this. Each failure is a coded WIRE_INVALID naming the
 * field, never a native error, because peer input reaches here.
 */
import { TandemError } from '../api/errors.js'
import { LIMITS } from './limits.js'
import { AckStatus, type MessageBodies, type MessageKind } from './messages.js'

export { LIMITS }

const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/
// Printable text only: no control characters, no replacement characters from bad UTF-8.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\ufffd\u2028\u2029]/

function invalid(field: string, why: string): never {
  throw new TandemError('WIRE_INVALID', `${field}: ${why}`)
}

function text(field: string, value: string, maxBytes: number, allowEmpty = true): void {
  if (!allowEmpty && value.length === 0) invalid(field, 'empty')
  if (Buffer.byteLength(value) > maxBytes) invalid(field, `longer than ${maxBytes} bytes`)
  if (UNPRINTABLE.test(value)) invalid(field, 'unprintable characters')
}

function count(field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    invalid(field, `must be an integer in [${min}, ${max}]`)
  }
}

function distinct(field: string, list: Uint8Array[]): void {
  const seen = new Set(list.map((k) => Buffer.from(k).toString('hex')))
  if (seen.size !== list.length) invalid(field, 'duplicates')
}

export const checks: { [K in MessageKind]: (m: MessageBodies[K]) => void } = {
  hello(m) {
    count('hello.protocol', m.protocol, 1, 0xffff)
    if (m.projects.length > LIMITS.maxProjects) invalid('hello.projects', 'too many')
    distinct('hello.projects', m.projects)
    text('hello.agent', m.agent, LIMITS.maxAgentBytes)
  },
  announce(m) {
    text('announce.name', m.name, LIMITS.maxNameBytes, false)
    count('announce.round', m.round, 0, LIMITS.maxRound)
    count('announce.contributors', m.contributors, 0, LIMITS.maxContributors)
    count('announce.seq', m.seq, 0, Number.MAX_SAFE_INTEGER)
  },
  roundOpen(m) {
    count('roundOpen.round', m.round, 0, LIMITS.maxRound)
    count('roundOpen.checkpointIndex', m.checkpointIndex, 0, LIMITS.maxRound)
    count('roundOpen.deadline', m.deadline, 1, Number.MAX_SAFE_INTEGER)
    count('roundOpen.innerSteps', m.innerSteps, 1, LIMITS.maxInnerSteps)
  },
  updateOffer(m) {
    count('updateOffer.round', m.round, 0, LIMITS.maxRound)
    count('updateOffer.start', m.start, 0, LIMITS.maxRound)
    count('updateOffer.length', m.length, 1, LIMITS.maxOfferBlocks)
    count('updateOffer.byteLength', m.byteLength, m.length, LIMITS.maxOfferBytes)
    count('updateOffer.samples', m.samples, 0, LIMITS.maxSamples)
  },
  ack(m) {
    count('ack.round', m.round, 0, LIMITS.maxRound)
    if (!Object.hasOwn(AckStatus, m.status)) invalid('ack.status', 'unknown status')
    if (m.reason !== '' && !CODE_PATTERN.test(m.reason)) invalid('ack.reason', 'not an error code')
    if ((m.status === 'rejected') !== (m.reason !== '')) {
      invalid('ack.reason', 'a rejection needs a reason, and only a rejection has one')
    }
  },
  error(m) {
    if (!CODE_PATTERN.test(m.code)) invalid('error.code', 'not an error code')
    text('error.message', m.message, LIMITS.maxErrorMessageBytes)
  },
  vote(m) {
    count('vote.proposal', m.proposal, 1, LIMITS.maxRound)
    count('vote.choice', m.choice, 0, 1)
  },
  flag(m) {
    count('flag.at', m.at, 1, Number.MAX_SAFE_INTEGER)
    text('flag.reason', m.reason, LIMITS.maxFlagReasonBytes, false)
  },
  voteReceipt(m) {
    count('voteReceipt.proposal', m.proposal, 1, LIMITS.maxRound)
    count('voteReceipt.round', m.round, 0, LIMITS.maxRound)
    count('voteReceipt.at', m.at, 0, Number.MAX_SAFE_INTEGER)
  },
}
