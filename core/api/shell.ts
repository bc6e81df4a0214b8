/**
 * What the desktop shell (electron/main/node-host.ts) uses of the contributor node, as types only.
 * The shell loads the node from dist/ at run time and imports these with `import type`: importing
 * the node's own types would pull all of core/ (and its untyped Holepunch modules) into the shell's
 * typecheck. core/node/shell-fit.ts checks, in core's typecheck, that the real ContributorNode and
 * createApi fit these, so a change to the node that the shell would not survive fails there.
 */
import type { ApiEvent, Settings } from './contract.js'
import type { Handlers } from './dispatch.js'

/** The options the shell opens the node with (a subset of ContributorNode.open's). */
export interface ShellNodeOptions {
  shell: 'electron'
  /** State root: Electron's userData directory. */
  home: string
  /** A private DHT (host:port, …); absent: the public DHT. */
  bootstrap?: string[]
}

/** What only a desktop session knows, reported to the node. */
export interface ShellEnvironment {
  idleSec?: number
  onBattery?: boolean
  /**
   * Why the shell holds training (asleep, screen locked, too hot, a listed program runs), in words
   * for the person; null: the hold is over. Absent: unchanged.
   */
  hold?: string | null
  /** The screen is locked: idle-only may train (the person is away). */
  screenLocked?: boolean
}

/** The node as the shell sees it. */
export interface ShellNode {
  on(event: 'event', listener: (event: ApiEvent) => void): unknown
  setEnvironment(env: ShellEnvironment): void
  /** The swarm: suspended before the computer sleeps, resumed after it wakes. */
  readonly net: { suspend(): Promise<void>; resume(): Promise<void> }
  readonly settings: {
    get(): Settings
    on(event: 'change', listener: (settings: Settings, keys: readonly string[]) => void): unknown
  }
  close(): Promise<void>
}

/** dist/core/node/node.js as the shell imports it. */
export interface ShellNodeModule {
  ContributorNode: { open(opts: ShellNodeOptions): Promise<ShellNode> }
}

/** dist/core/node/api.js as the shell imports it; `node` is the one ContributorNode.open gave. */
export interface ShellApiModule {
  createApi(node: ShellNode, shell: 'electron'): Partial<Handlers>
}
