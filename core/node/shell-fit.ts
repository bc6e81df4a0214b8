/**
 * Compile-time only: the contributor node fits what the desktop shell expects of it
 * (core/api/shell.ts). The shell cannot import the node's types (see there), so this file is where
 * a change to ContributorNode or createApi that would break the shell fails the typecheck.
 */
import type { ShellNode, ShellNodeOptions } from '../api/shell.js'
import type { Handlers } from '../api/dispatch.js'
import type { createApi } from './api.js'
import type { ContributorNode } from './node.js'

/** A type error unless A is assignable to B. */
type Fits<A extends B, B> = A

export type NodeFitsShell = Fits<ContributorNode, ShellNode>
export type OpenFitsShell = Fits<
  typeof ContributorNode.open,
  (opts: ShellNodeOptions) => Promise<ShellNode>
>
export type ApiFitsShell = Fits<
  typeof createApi,
  (node: ContributorNode, shell: 'electron') => Partial<Handlers>
>

// The check bites: a node without setEnvironment (which the shell calls) does not fit.
// @ts-expect-error setEnvironment is missing
export type CheckBites = Fits<Omit<ContributorNode, 'setEnvironment'>, ShellNode>
