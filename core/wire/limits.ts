/**
 * Bounds on the values a peer may send, shared by the codecs (array lengths are checked before
 * anything is allocated, see bounded-array.ts) and the semantic check that follows every decode.
 */
export const LIMITS = {
  maxProjects: 64,
  maxAgentBytes: 64,
  maxNameBytes: 128,
  maxErrorMessageBytes: 256,
  /** Rounds, block indexes and counts stay well inside uint32. */
  maxRound: 0xffff_ffff,
  maxContributors: 1_000_000,
  maxInnerSteps: 1_000_000,
  maxOfferBlocks: 65_536,
  maxOfferBytes: 1024 * 1024 * 1024,
  maxSamples: 1_000_000_000,
  /** A flag's reason, UTF-8. */
  maxFlagReasonBytes: 500,
} as const
