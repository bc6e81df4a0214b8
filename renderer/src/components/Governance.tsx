/**
 * A project's governance (docs/governance.md): its charter (shown before joining too), a pause over
 * changed terms with the button to accept them, open proposals with their diff and vote buttons,
 * and the history with outcomes. Fetched with `governance.get`; fetched again on `governance`
 * events, when the project's round moves, and every few seconds while shown.
 */
import { useCallback, useEffect, useId, useState } from 'react'
import type {
  FlagView,
  GovernanceView,
  ProposalView,
  ProjectSummary,
} from '../../../core/api/contract'
import { toUiError, type UiError } from '../errors'
import { useAction, useAppState, useController } from '../state/context'
import { ErrorNote } from './ErrorNote'
import { Facts } from './Facts'

const REFRESH_MS = 3000

export function GovernanceCard({ project: p }: { project: ProjectSummary }) {
  const controller = useController()
  const seq = useAppState((s) => s.governanceSeq)
  const [view, setView] = useState<GovernanceView | null>(null)
  const [flags, setFlags] = useState<FlagView[]>([])
  const [failure, setFailure] = useState<UiError | null>(null)
  // State is set in the promise's callbacks: the effect itself only subscribes.
  const load = useCallback(
    () =>
      Promise.all([
        controller.call('governance.get', { project: p.key }),
        controller.call('projects.flags', { project: p.key }),
      ]).then(
        ([v, f]) => {
          setView(v)
          setFlags(f)
          setFailure(null)
        },
        (err: unknown) => setFailure(toUiError(err)),
      ),
    [controller, p.key],
  )
  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), REFRESH_MS)
    return () => clearInterval(timer)
  }, [load, seq, p.round])
  const [vote, voteState] = useAction(async (proposal: number, choice: 'yes' | 'no') => {
    await controller.call('governance.vote', { project: p.key, proposal, choice })
    await load()
  })
  const [accept, acceptState] = useAction(async () => {
    setView(await controller.call('governance.acceptTerms', { project: p.key }))
  })
  const open = view?.proposals.filter((x) => x.status === 'open') ?? []
  const history = view?.proposals.filter((x) => x.status !== 'open') ?? []
  return (
    <section className="governance" aria-label="Governance" data-testid="governance">
      <h4>Governance</h4>
      {failure ? <ErrorNote error={failure} /> : null}
      {view ? <CharterFacts view={view} /> : failure ? null : <p className="muted">Loading…</p>}
      {view?.terms.paused ? (
        <div className="callout warn" data-testid="terms-paused">
          <p>
            This project’s terms changed and you did not vote for the change: your computer does not
            train for it until you accept the new terms.
          </p>
          <button type="button" disabled={acceptState.pending} onClick={() => void accept()}>
            Accept the new terms
          </button>
          {acceptState.error ? <ErrorNote error={acceptState.error} /> : null}
        </div>
      ) : null}
      {view ? (
        <>
          <h5>Open proposals</h5>
          {open.length === 0 ? <p className="muted">None.</p> : null}
          <ul className="proposals" data-testid="open-proposals">
            {open.map((x) => (
              <ProposalItem key={x.id} proposal={x}>
                {x.canVote ? (
                  <span className="controls" role="group" aria-label={`Vote on #${x.id}`}>
                    <button
                      type="button"
                      disabled={voteState.pending}
                      onClick={() => void vote(x.id, 'yes')}
                    >
                      Vote yes
                    </button>
                    <button
                      type="button"
                      disabled={voteState.pending}
                      onClick={() => void vote(x.id, 'no')}
                    >
                      Vote no
                    </button>
                  </span>
                ) : null}
              </ProposalItem>
            ))}
          </ul>
          {voteState.error ? <ErrorNote error={voteState.error} /> : null}
          <h5>History</h5>
          {history.length === 0 ? <p className="muted">No decided proposals yet.</p> : null}
          <ul className="proposals" data-testid="proposal-history">
            {history.map((x) => (
              <ProposalItem key={x.id} proposal={x} />
            ))}
          </ul>
        </>
      ) : null}
      <Flags project={p.key} flags={flags} onFlagged={setFlags} />
    </section>
  )
}

/** Flags other contributors raised about the project (spread through the swarm), and our own. */
function Flags({
  project,
  flags,
  onFlagged,
}: {
  project: string
  flags: FlagView[]
  onFlagged: (f: FlagView[]) => void
}) {
  const controller = useController()
  const id = useId()
  const [reason, setReason] = useState('')
  const [flag, state] = useAction(async () => {
    onFlagged(await controller.call('projects.flag', { project, reason }))
    setReason('')
  })
  return (
    <div className="flags" data-testid="flags">
      <h5>Flags ({flags.length})</h5>
      {flags.length === 0 ? <p className="muted">Nobody has flagged this project.</p> : null}
      <ul>
        {flags.map((f) => (
          <li key={f.flagger} data-testid="flag">
            <code>{f.flagger.slice(0, 8)}</code>: {f.reason}{' '}
            <span className="muted">({new Date(f.at).toLocaleString()})</span>
          </li>
        ))}
      </ul>
      <label htmlFor={id}>Flag this project (signed, seen by its other contributors)</label>
      <input id={id} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      <button
        type="button"
        disabled={state.pending || reason.trim() === ''}
        onClick={() => void flag()}
      >
        Flag
      </button>
      {state.error ? <ErrorNote error={state.error} /> : null}
    </div>
  )
}

function CharterFacts({ view }: { view: GovernanceView }) {
  const c = view.charter
  if (!c)
    return (
      <p className="muted" data-testid="charter">
        No charter: this project states no purpose, licence or voting policy.
      </p>
    )
  const pol = c.governance
  const period =
    'rounds' in pol.votingPeriod
      ? `${pol.votingPeriod.rounds} round(s)`
      : `${pol.votingPeriod.seconds} s`
  return (
    <div data-testid="charter">
      <Facts
        rows={[
          ['Purpose', c.purpose],
          ['Must not be used for', c.prohibitedUses.join('; ') || 'nothing stated'],
          ['Weights licence', `${c.weights.licence} (download: ${c.weights.download})`],
          ['Data', c.dataSources.map((d) => `${d.name} (${d.licence})`).join(', ')],
          ['Accountable host', `${c.host.name} <${c.host.contact}>`],
          [
            'Voting',
            `${pol.weighting === 'reputation' ? 'weighted by reputation' : 'one vote per contributor'}, quorum ${pol.quorum}, threshold ${pol.threshold}, ${period}`,
          ],
        ]}
      />
    </div>
  )
}

function ProposalItem({
  proposal: x,
  children,
}: {
  proposal: ProposalView
  children?: React.ReactNode
}) {
  const outcome =
    x.status === 'open'
      ? `open until round ${x.closesAfterRound ?? '?'} closes`
      : x.status === 'passed'
        ? `passed${x.enactedAt !== null ? `, in effect from round ${x.enactedAt}` : ''}`
        : 'failed: never applied'
  return (
    <li data-testid="proposal" data-id={x.id} data-status={x.status}>
      <strong>
        #{x.id} {x.title}
      </strong>{' '}
      <span className={`badge ${x.status === 'failed' ? 'warn' : 'ok'}`}>{outcome}</span>
      <ul className="diff" aria-label="Changes">
        {x.diff.map((d) => (
          <li key={d.field}>
            <code>{d.field}</code>: <del>{d.from}</del> → <ins>{d.to}</ins>
          </li>
        ))}
      </ul>
      <p className="muted" data-testid="proposal-votes">
        Yes {x.yes}, no {x.no} of {x.eligibleWeight} eligible
        {x.quorumMet ? '' : ' (quorum not met yet)'}
        {x.changesTerms ? ' · changes the terms: those who do not vote yes pause' : ''}
        {x.myVote ? ` · you voted ${x.myVote}` : ''}
      </p>
      {children}
    </li>
  )
}
