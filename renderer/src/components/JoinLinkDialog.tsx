/**
 * A tandem://project/<key> link opened the app (electron/main/links.ts) or someone opened
 * #/projects/join/<key>: ask before joining. A link never joins by itself; "Not now" and Esc
 * leave everything as it was. Shows what the node knows of the project (name, host) when it has
 * discovered it, and says so when it is already joined.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react'
import { shortKey } from '../format'
import { useAction, useAppState, useController } from '../state/context'
import { ErrorNote } from './ErrorNote'

const JOIN_HASH = /^#\/projects\/join\/([0-9a-f]{64})$/

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener)
  return () => window.removeEventListener('hashchange', listener)
}

/** The key a join link asks about, from the address fragment; null when none. */
export function useJoinLink(): string | null {
  return useSyncExternalStore(subscribe, () => JOIN_HASH.exec(window.location.hash)?.[1] ?? null)
}

function leave(): void {
  window.location.hash = '#/projects'
}

export function JoinLinkDialog({ projectKey }: { projectKey: string }) {
  const controller = useController()
  const project = useAppState((s) => s.projects?.find((p) => p.key === projectKey) ?? null)
  const [join, state] = useAction(async () => {
    await controller.join(projectKey)
    leave()
  })
  const dialog = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const el = dialog.current
    if (!el) return
    el.showModal()
    return () => el.close()
  }, [])
  const name = project?.name ?? `project ${shortKey(projectKey)}`
  return (
    <dialog
      ref={dialog}
      className="receipt-dialog"
      aria-labelledby="join-link-title"
      data-testid="join-link"
      onCancel={(e) => {
        e.preventDefault()
        leave()
      }}
    >
      <h3 id="join-link-title">Join {name}?</h3>
      <p>
        A link asked Tandem to join this project. Your computer would download its data and train
        its model when your settings allow. Join only projects you trust.
      </p>
      <p>
        Key: <code data-testid="join-link-key">{projectKey}</code>
      </p>
      {project?.joined ? (
        <p className="ok" data-testid="join-link-joined">
          You have already joined this project.
        </p>
      ) : null}
      {state.error ? <ErrorNote error={state.error} /> : null}
      <div className="inline">
        {project?.joined ? null : (
          <button type="button" onClick={() => void join()} disabled={state.pending}>
            {state.pending ? 'Joining…' : 'Join'}
          </button>
        )}
        <button type="button" onClick={leave} autoFocus>
          Not now
        </button>
      </div>
    </dialog>
  )
}
