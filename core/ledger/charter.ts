/**
 * A project's charter (docs/governance.md): what the model is for, the uses it must not be put to,
 * the licence of its weights and who may download them, the data it is trained on and their
 * licences, the accountable host, and the governance policy under which any of this (or the
 * training rules) may change. It lives in the manifest (manifest.ts, format version 2) and changes
 * only through amendments the contributors approve (amendments.ts, governance.ts).
 *
 * The "terms" are the part a contributor consents to by training: purpose, prohibited uses, weights
 * licence and data sources. A change to them pauses every contributor who did not vote for it until
 * they accept (termsHash).
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'

const Hex32 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a 32-byte key)')
const Text = (max: number) => z.string().trim().min(1).max(max)

export const VotingPeriod = z.union([
  z.object({ rounds: z.number().int().min(1).max(1000) }).strict(),
  z
    .object({
      seconds: z
        .number()
        .int()
        .min(1)
        .max(90 * 86_400),
    })
    .strict(),
])
export type VotingPeriod = z.infer<typeof VotingPeriod>

export const GovernancePolicy = z
  .object({
    /**
     * Who may vote: contributors with an accepted update in the `recentRounds` rounds before the
     * proposal (all rounds before it when absent).
     */
    recentRounds: z.number().int().min(1).max(1_000_000).optional(),
    /** One vote per eligible contributor, or each weighted by its reputation at the proposal. */
    weighting: z.enum(['one-per-contributor', 'reputation']).default('one-per-contributor'),
    /** Share of the eligible weight that must vote for the result to count. */
    quorum: z.number().min(0).max(1).default(0.5),
    /** Share of the weight cast that must say yes (yes ≥ threshold × cast, and yes > 0). */
    threshold: z.number().gt(0).max(1).default(0.6),
    votingPeriod: VotingPeriod.default({ rounds: 2 }),
  })
  .strict()
export type GovernancePolicy = z.infer<typeof GovernancePolicy>

/** The policy of a project without a charter (manifest version 1, or no charter given). */
export const DEFAULT_POLICY: GovernancePolicy = GovernancePolicy.parse({})

export const DataSource = z
  .object({
    name: Text(200),
    licence: Text(200),
    url: z.string().url().max(500).optional(),
  })
  .strict()

export const HostIdentity = z
  .object({
    name: Text(120),
    contact: Text(200),
    /** Keys that answer for the project; the ledger's own signing key is the manifest's `host`. */
    keys: z.array(Hex32).min(1).max(8).optional(),
  })
  .strict()
export type HostIdentity = z.infer<typeof HostIdentity>

export const WeightsTerms = z
  .object({
    licence: Text(200),
    /** Who may download the trained weights (`tandem model export`). */
    download: z.enum(['everyone', 'contributors', 'nobody']).default('everyone'),
  })
  .strict()

export const Charter = z
  .object({
    purpose: Text(2000),
    prohibitedUses: z.array(Text(500)).max(50).default([]),
    weights: WeightsTerms,
    dataSources: z.array(DataSource).min(1).max(50),
    host: HostIdentity,
    governance: GovernancePolicy.default(() => GovernancePolicy.parse({})),
  })
  .strict()
export type Charter = z.infer<typeof Charter>

/** The part of a charter a contributor consents to: changing it pauses those who did not agree. */
export function charterTerms(c: Charter | undefined) {
  if (!c) return null
  return {
    purpose: c.purpose,
    prohibitedUses: c.prohibitedUses,
    licence: c.weights.licence,
    download: c.weights.download,
    dataSources: c.dataSources,
  }
}

/** Identity of the terms (hex SHA-256 of their JSON); "none" for a project without a charter. */
export function termsHash(c: Charter | undefined): string {
  const terms = charterTerms(c)
  if (!terms) return 'none'
  return createHash('sha256').update(JSON.stringify(terms)).digest('hex')
}

/** One-line summary of a charter for lists (`tandem projects`). */
export function charterSummary(c: Charter | undefined): string {
  if (!c) return 'no charter'
  return `${c.purpose.slice(0, 80)}${c.purpose.length > 80 ? '…' : ''} · weights ${c.weights.licence} (${c.weights.download}) · host ${c.host.name}`
}
