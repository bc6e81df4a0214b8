import { useEffect, useState } from 'react'
import type { AppInfo } from '../../core/api/contract'
import type { TandemClient } from '../../core/api/client'

type NodeState =
  | { kind: 'connecting' }
  | { kind: 'none' }
  | { kind: 'connected'; info: AppInfo }
  | { kind: 'error'; message: string }

export function App({ client }: { client: TandemClient | null }) {
  const [state, setState] = useState<NodeState>(client ? { kind: 'connecting' } : { kind: 'none' })

  useEffect(() => {
    if (!client) return
    let live = true
    client.call('app.info', {}).then(
      (info) => live && setState({ kind: 'connected', info }),
      (err: unknown) =>
        live &&
        setState({ kind: 'error', message: err instanceof Error ? err.message : String(err) }),
    )
    return () => {
      live = false
    }
  }, [client])

  return (
    <div className="app">
      <header className="app-header">
        <h1>Tandem</h1>
        <span
          className={`node-badge node-${state.kind}`}
          role="status"
          aria-live="polite"
          data-testid="node-state"
        >
          {label(state)}
        </span>
      </header>
      <main className="app-main">
        {state.kind === 'connected' ? (
          <NodeInfo info={state.info} />
        ) : (
          <NotConnected state={state} />
        )}
      </main>
    </div>
  )
}

function label(state: NodeState): string {
  switch (state.kind) {
    case 'connecting':
      return 'Connecting…'
    case 'none':
      return 'No node'
    case 'connected':
      return 'Connected'
    case 'error':
      return 'Error'
  }
}

function NodeInfo({ info }: { info: AppInfo }) {
  return (
    <section aria-labelledby="node-info-title" className="panel">
      <h2 id="node-info-title">This node</h2>
      <dl className="facts">
        <dt>Version</dt>
        <dd>{info.version}</dd>
        <dt>Running in</dt>
        <dd>{info.host === 'electron' ? 'Desktop app' : 'Headless daemon'}</dd>
        <dt>Platform</dt>
        <dd>{info.platform}</dd>
      </dl>
    </section>
  )
}

function NotConnected({ state }: { state: NodeState }) {
  return (
    <section aria-labelledby="no-node-title" className="panel">
      <h2 id="no-node-title">Not connected to a Tandem node</h2>
      {state.kind === 'error' ? <p className="error">{state.message}</p> : null}
      <p>
        Open this page from the Tandem desktop app, or start a headless node with{' '}
        <code>tandem daemon</code> and follow the link it prints.
      </p>
    </section>
  )
}
