/**
 * One unit's whole record as the station keeps it: identity, batch, every attempt with its steps (times, results,
 * the operator's message, backend calls, the board's log, intents), key fingerprints (never keys), notes,
 * corrections, voids, signatures with their validity, and where the unit sits in the hash chain. The actions
 * (sign reviewed, add a note, void) are new events: nothing here edits the record.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { AttemptView, StepView, UnitDetail } from '../../../electron/station-api';
import { STRINGS } from '../strings';
import { Dialog } from '../components/dialog';
import { formatClock, formatDuration, formatTime, shortHash } from '../components/format';
import { FormButtons, FormError, PinField, SignedSummary } from '../components/forms';
import { StatusIcon } from '../components/icons';
import { UnitStateBadge } from '../components/unit-state';
import { useStation } from '../store/hooks';
import { loadChain, refreshRow } from '../store/review-store';
import { navigate } from '../store/route';
import { notify } from '../store/ui-store';

type Open = 'sign' | 'note' | 'void' | null;

export function UnitDetailView({ unitId, stationId }: { unitId: string; stationId: string | null }) {
  const execute = useStation((s) => s.execute);
  const central = useStation((s) => s.snapshot?.centralRecord ?? null) !== null;
  const [detail, setDetail] = useState<UnitDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [changed, setChanged] = useState(false);
  const [open, setOpen] = useState<Open>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = useCallback(async () => {
    const answer = await execute('unit.detail', { unitId, ...(stationId && { stationId }) });
    if (answer.ok) {
      setDetail(answer.detail);
      setError(null);
    } else {
      setError(answer.message);
    }
  }, [execute, unitId, stationId]);

  useEffect(() => {
    void load();
  }, [load]);

  // Focus the unit's name once it is shown, so a keyboard user starts reading at the top.
  const shown = detail !== null;
  useEffect(() => {
    if (shown) heading.current?.focus();
  }, [shown]);

  const back = () => navigate('review');
  const afterAction = async (message: string) => {
    setOpen(null);
    setChanged(false);
    await load();
    void refreshRow(execute, unitId, stationId ?? undefined);
    void loadChain(execute);
    notify(message, 'info');
  };
  const recordChanged = async () => {
    setOpen(null);
    await load();
    setChanged(true);
  };

  if (!detail) {
    return (
      <main className="review-main unit-detail" aria-busy={!error}>
        <button type="button" className="button" onClick={back}>
          ← {STRINGS.detail.back}
        </button>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : (
          <p className="empty">{STRINGS.detail.loading}</p>
        )}
      </main>
    );
  }

  const { unit } = detail;
  const name = unit.mcuId ?? unit.id;
  const mayVoid = unit.state !== 'voided' && unit.state !== 'in-progress';
  return (
    <main className="review-main unit-detail" aria-labelledby="unit-title">
      <div className="detail-head">
        <button type="button" className="button" onClick={back}>
          ← {STRINGS.detail.back}
        </button>
        <h1 id="unit-title" ref={heading} tabIndex={-1}>
          {STRINGS.detail.unit} <span className="mono">{name}</span>
        </h1>
        <UnitStateBadge state={unit.state} />
        {unit.stationId && (
          <span className="detail-station">
            {STRINGS.review.columns.station} <span className="mono">{unit.stationId}</span>
          </span>
        )}
        <span className="banner-spacer" />
        {central ? (
          <span className="muted read-only-note">{STRINGS.centralRecord.readOnly}</span>
        ) : (
          <>
            <button type="button" className="button primary" onClick={() => setOpen('sign')}>
              {STRINGS.detail.sign}
            </button>
            <button type="button" className="button" onClick={() => setOpen('note')}>
              {STRINGS.detail.note}
            </button>
            <button
              type="button"
              className="button danger"
              disabled={!mayVoid}
              onClick={() => setOpen('void')}
            >
              {STRINGS.detail.void}
            </button>
          </>
        )}
      </div>
      {changed && (
        <p className="form-error detail-changed" role="alert">
          {STRINGS.detail.recordChanged}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="detail-grid">
        <div className="detail-column">
          <Identity detail={detail} />
          <section className="panel" aria-labelledby="attempts-title">
            <h2 id="attempts-title">{STRINGS.detail.attempts}</h2>
            {detail.attempts.map((attempt) => (
              <Attempt key={attempt.attempt} attempt={attempt} />
            ))}
          </section>
        </div>
        <div className="detail-column">
          <Signatures detail={detail} />
          <Notes detail={detail} />
          <Fingerprints detail={detail} />
          <Chain detail={detail} />
        </div>
      </div>
      {open === 'sign' && (
        <SignDialog
          detail={detail}
          onCancel={() => setOpen(null)}
          onSigned={() => void afterAction(STRINGS.detail.signedDone)}
          onChanged={() => void recordChanged()}
        />
      )}
      {open === 'note' && (
        <NoteDialog
          unitId={unit.id}
          onCancel={() => setOpen(null)}
          onAdded={() => void afterAction(STRINGS.detail.noteDone)}
        />
      )}
      {open === 'void' && (
        <VoidDialog
          detail={detail}
          onCancel={() => setOpen(null)}
          onVoided={() => void afterAction(STRINGS.detail.voidDone)}
          onChanged={() => void recordChanged()}
        />
      )}
    </main>
  );
}

function Facts({ rows }: { rows: Array<[string, string | null | undefined, boolean?]> }) {
  return (
    <dl className="facts">
      {rows.map(([term, value, mono]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd className={mono ? 'mono' : undefined}>{value ?? '–'}</dd>
        </div>
      ))}
    </dl>
  );
}

function Identity({ detail }: { detail: UnitDetail }) {
  const { unit, batch } = detail;
  const last = detail.attempts.at(-1);
  const scanned = last?.scan?.serialNumber;
  return (
    <section className="panel panel-identity" aria-labelledby="identity-title">
      <h2 id="identity-title">{STRINGS.detail.identity}</h2>
      <div className="identity-grid">
        <Facts
          rows={[
            [STRINGS.detail.mcuId, unit.mcuId, true],
            [STRINGS.detail.soc, unit.soc],
            [STRINGS.detail.deviceId, unit.deviceId ?? last?.identity.deviceId, true],
            [STRINGS.detail.firmware, last?.identity.firmwareVersion],
            [
              STRINGS.detail.serial,
              unit.serialNumber ?? (typeof scanned === 'string' ? scanned : null),
              true,
            ],
            [STRINGS.detail.unitId, unit.id, true],
          ]}
        />
        <Facts
          rows={[
            [STRINGS.detail.batch, batch.name],
            [STRINGS.detail.recipe, batch.recipeId],
            [STRINGS.detail.workOrder, batch.workOrder],
            [
              STRINGS.detail.batchState,
              batch.releasedAt
                ? `${STRINGS.dashboard.state.released} ${formatTime(batch.releasedAt)}`
                : (STRINGS.dashboard.state[batch.state] ?? batch.state),
            ],
          ]}
        />
      </div>
    </section>
  );
}

function Attempt({ attempt }: { attempt: AttemptView }) {
  const failed = attempt.outcome === 'failed';
  return (
    <article
      className={`attempt${failed ? ' attempt-failed' : ''}`}
      aria-labelledby={`attempt-${attempt.attempt}`}
    >
      <header className="attempt-head">
        <h3 id={`attempt-${attempt.attempt}`}>{STRINGS.detail.attempt(attempt.attempt)}</h3>
        {attempt.outcome && <UnitStateBadge state={attempt.outcome} />}
        <span>
          {formatTime(attempt.startedAt)} UTC {STRINGS.detail.startedBy(attempt.operator, attempt.slotName)}
        </span>
        <span className="muted">{formatDuration(attempt.durationMs)}</span>
        {attempt.previousUnitId && (
          <span className="muted">{STRINGS.detail.previousUnit(attempt.previousUnitId)}</span>
        )}
      </header>
      {attempt.errorCode && (
        <p className="attempt-error">
          <span className="mono code">{attempt.errorCode}</span>
          {attempt.failedStep && <span className="muted"> · {attempt.failedStep}</span>}
          {attempt.message && <span className="operator-message">{attempt.message}</span>}
        </p>
      )}
      {attempt.steps.length === 0 ? (
        <p className="muted">{STRINGS.detail.noSteps}</p>
      ) : (
        <ol className="steps">
          {attempt.steps.map((step, index) => (
            <Step key={`${step.step}-${index}`} step={step} />
          ))}
        </ol>
      )}
    </article>
  );
}

function Step({ step }: { step: StepView }) {
  const outcome = step.outcome ?? 'running';
  return (
    <li className={`step step-${outcome}`} data-step={step.step}>
      <div className="step-line">
        <span className="step-name">{step.step}</span>
        <span className="step-time">{formatClock(step.startedAt)}</span>
        <span className="step-duration">{formatDuration(step.durationMs)}</span>
        <span className={`step-outcome outcome-${outcome}`}>
          {outcome === 'passed' || outcome === 'failed' ? <StatusIcon state={outcome} /> : null}
          {STRINGS.review.stateWord[outcome] ?? outcome.toUpperCase()}
        </span>
        {step.errorCode && <span className="mono code">{step.errorCode}</span>}
      </div>
      {step.message && (
        <p className="step-message">
          {step.message}
          {step.retrySafe !== null && (
            <span className="muted"> ({STRINGS.detail.retrySafe(step.retrySafe)})</span>
          )}
        </p>
      )}
      {step.backend.length > 0 && (
        <ul className="calls" aria-label={STRINGS.detail.backend}>
          {step.backend.map((call, index) => (
            <li key={index} className="mono">
              <span className="muted">{STRINGS.detail.backend}</span> {call.method} {call.endpoint}{' '}
              <span className={`http http-${String(call.status ?? 0).slice(0, 1)}`}>
                {call.status ?? call.outcome}
              </span>{' '}
              {formatDuration(call.durationMs)}
              {call.attempt > 1 && <span className="muted"> (try {call.attempt})</span>}
              {call.status !== null && call.outcome !== 'ok' && (
                <span className="muted"> {call.outcome}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {step.intents.map((intent) => (
        <p key={intent.seq} className="intent">
          <span className="muted">{STRINGS.detail.intents}</span>{' '}
          <span className="mono">{intent.action}</span>{' '}
          <span className="muted">
            {formatClock(intent.at)} · {STRINGS.detail.seq} {intent.seq}
          </span>
        </p>
      ))}
      {step.boardLog.length > 0 && (
        <pre className="board-log" aria-label={`${STRINGS.detail.boardLog}: ${step.step}`}>
          {step.boardLog.join('\n')}
        </pre>
      )}
    </li>
  );
}

function Signatures({ detail }: { detail: UnitDetail }) {
  return (
    <section className="panel" aria-labelledby="signatures-title">
      <h2 id="signatures-title">{STRINGS.detail.signatures}</h2>
      {detail.signatures.length === 0 ? (
        <p className="muted">{STRINGS.detail.none}</p>
      ) : (
        <ul className="records">
          {detail.signatures.map((signature) => (
            <li
              key={signature.seq}
              className={`signature ${signature.valid ? 'signature-valid' : 'signature-invalid'}`}
              data-testid="signature"
            >
              <p className="record-line">
                <span className={`validity ${signature.valid ? 'validity-ok' : 'validity-bad'}`}>
                  {signature.valid ? `✓ ${STRINGS.detail.valid}` : `✗ ${STRINGS.detail.invalid}`}
                </span>
                <strong>
                  {STRINGS.detail.signed(
                    signature.signerName,
                    STRINGS.meaning[signature.meaning] ?? signature.meaning,
                  )}
                </strong>
              </p>
              <p className="muted">
                {formatTime(signature.at)} UTC · {STRINGS.detail.seq} {signature.seq} ·{' '}
                <span className="mono" title={signature.recordHash}>
                  {shortHash(signature.recordHash, 16)}
                </span>
              </p>
              {signature.reason && <p>{signature.reason}</p>}
              {signature.problem && <p className="signature-problem">{signature.problem}</p>}
              <p className={signature.laterEvents > 0 ? 'later-events' : 'muted'}>
                {STRINGS.detail.laterEvents(signature.laterEvents)}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Notes({ detail }: { detail: UnitDetail }) {
  const empty = detail.notes.length + detail.corrections.length + detail.voids.length === 0;
  return (
    <section className="panel" aria-labelledby="notes-title">
      <h2 id="notes-title">
        {STRINGS.detail.notes}, {STRINGS.detail.corrections.toLowerCase()},{' '}
        {STRINGS.detail.voids.toLowerCase()}
      </h2>
      {empty && <p className="muted">{STRINGS.detail.none}</p>}
      <ul className="records">
        {detail.voids.map((entry) => (
          <li key={entry.seq} className="void-record">
            <p className="record-line">
              <strong>{STRINGS.meaning.voided.toUpperCase()}</strong> {entry.reason}
            </p>
            <p className="muted">
              {formatTime(entry.at)} UTC · {entry.operator ?? '–'} · {STRINGS.detail.seq} {entry.seq}
            </p>
          </li>
        ))}
        {detail.notes.map((note) => (
          <li key={note.seq} data-testid="note">
            <p className="record-line note-text">{note.text}</p>
            <p className="muted">
              {formatTime(note.at)} UTC · {note.operator ?? '–'} · {STRINGS.detail.seq} {note.seq}
            </p>
          </li>
        ))}
        {detail.corrections.map((entry) => (
          <li key={entry.seq}>
            <p className="record-line">
              <strong>{STRINGS.detail.corrections}</strong> {entry.reason}
            </p>
            <p className="mono">
              {Object.entries(entry.set)
                .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)
                .join(', ')}
            </p>
            <p className="muted">
              {formatTime(entry.at)} UTC · {entry.operator ?? '–'} ·{' '}
              {STRINGS.detail.supersedes(entry.supersedes)}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Fingerprints({ detail }: { detail: UnitDetail }) {
  return (
    <section className="panel" aria-labelledby="fingerprints-title">
      <h2 id="fingerprints-title">{STRINGS.detail.fingerprints}</h2>
      <p className="muted">{STRINGS.detail.fingerprintsNote}</p>
      {detail.fingerprints.length > 0 && (
        <table className="data-table compact">
          <thead>
            <tr>
              <th scope="col">{STRINGS.detail.step}</th>
              <th scope="col">{STRINGS.detail.fingerprintName}</th>
              <th scope="col">{STRINGS.detail.fingerprintValue}</th>
            </tr>
          </thead>
          <tbody>
            {detail.fingerprints.map((fp) => (
              <tr key={`${fp.step}-${fp.name}`}>
                <td>{fp.step}</td>
                <td>{fp.name}</td>
                <td className="mono break" title={fp.value}>
                  {fp.value}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Chain({ detail }: { detail: UnitDetail }) {
  const { chain, record } = detail;
  return (
    <section className="panel" aria-labelledby="chain-title">
      <h2 id="chain-title">{STRINGS.detail.chain}</h2>
      <p>{STRINGS.detail.chainRange(chain.firstSeq, chain.lastSeq, chain.events.length)}</p>
      <p className={chain.checkpointAfter ? undefined : 'muted'}>
        {chain.checkpointAfter
          ? STRINGS.detail.checkpointAfter(
              chain.checkpointAfter.seq,
              `${formatTime(chain.checkpointAfter.at)} UTC`,
            )
          : STRINGS.detail.noCheckpoint}
        {chain.checkpointAfter && (
          <span className="mono muted" title={chain.checkpointAfter.hash}>
            {' '}
            {shortHash(chain.checkpointAfter.hash, 16)}
          </span>
        )}
      </p>
      <p>
        <span className="muted">{STRINGS.detail.recordHash}</span>{' '}
        <span className="mono" title={record.recordHash}>
          {shortHash(record.recordHash, 16)}
        </span>
      </p>
      <div className="chain-events" role="region" tabIndex={0} aria-label={STRINGS.detail.chainEvents}>
        <table className="data-table compact">
          <thead>
            <tr>
              <th scope="col" className="num">
                {STRINGS.detail.seq}
              </th>
              <th scope="col">{STRINGS.detail.kind}</th>
              <th scope="col">{STRINGS.detail.hash}</th>
            </tr>
          </thead>
          <tbody>
            {chain.events.map((event) => (
              <tr key={event.seq}>
                <td className="num">{event.seq}</td>
                <td>
                  {event.kind}
                  {event.step && <span className="muted"> {event.step}</span>}
                  {event.outcome && <span className="muted"> {event.outcome}</span>}
                </td>
                <td className="mono" title={event.hash}>
                  {shortHash(event.hash, 12)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

// --- actions -----------------------------------------------------------------------------------------------------

function SignDialog({
  detail,
  onCancel,
  onSigned,
  onChanged,
}: {
  detail: UnitDetail;
  onCancel: () => void;
  onSigned: () => void;
  onChanged: () => void;
}) {
  const execute = useStation((s) => s.execute);
  const session = useStation((s) => s.snapshot!.session);
  const [pin, setPin] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pinField = useRef<HTMLInputElement>(null);
  const signer = session?.name ?? '';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const answer = await execute('record.sign', {
      subject: { type: 'unit', id: detail.unit.id },
      meaning: 'reviewed',
      pin,
      recordHash: detail.record.recordHash,
      ...(reason.trim() !== '' && { reason: reason.trim() }),
    });
    setBusy(false);
    if (answer.ok) return onSigned();
    if (answer.code === 'RECORD_CHANGED') return onChanged();
    setError(answer.message);
    setPin('');
    pinField.current?.focus();
  };
  return (
    <Dialog title={STRINGS.signDialog.title} onClose={onCancel}>
      <form className="form" onSubmit={submit}>
        <SignedSummary
          title={STRINGS.signDialog.what}
          rows={[
            [
              STRINGS.signDialog.unit,
              <>
                <span className="mono">{detail.unit.mcuId ?? '–'}</span>
                <br />
                <span className="mono small">{detail.unit.id}</span>
              </>,
            ],
            [
              STRINGS.signDialog.recordHash,
              <span className="mono" title={detail.record.recordHash} data-testid="sign-record-hash">
                {shortHash(detail.record.recordHash, 16)}
              </span>,
            ],
            [STRINGS.signDialog.meaning, STRINGS.signDialog.meaningReviewed],
            [STRINGS.signDialog.signer, signer],
          ]}
        />
        <PinField
          label={STRINGS.signDialog.pin(signer)}
          value={pin}
          onChange={setPin}
          inputRef={pinField}
          autoFocus
        />
        <label className="field">
          <span>{STRINGS.signDialog.reason}</span>
          <input
            name="reason"
            minLength={3}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
        <FormError error={error} />
        <FormButtons
          cancel={STRINGS.signDialog.cancel}
          submit={STRINGS.signDialog.sign}
          onCancel={onCancel}
          busy={busy}
        />
      </form>
    </Dialog>
  );
}

function NoteDialog({
  unitId,
  onCancel,
  onAdded,
}: {
  unitId: string;
  onCancel: () => void;
  onAdded: () => void;
}) {
  const execute = useStation((s) => s.execute);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const answer = await execute('unit.note', { unitId, text });
    setBusy(false);
    if (answer.ok) onAdded();
    else setError(answer.message);
  };
  return (
    <Dialog title={STRINGS.noteDialog.title} onClose={onCancel}>
      <form className="form" onSubmit={submit}>
        <p className="muted">{STRINGS.noteDialog.help}</p>
        <label className="field">
          <span>{STRINGS.noteDialog.text}</span>
          <textarea
            name="note"
            required
            maxLength={2000}
            rows={5}
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoFocus
          />
        </label>
        <FormError error={error} />
        <FormButtons
          cancel={STRINGS.noteDialog.cancel}
          submit={STRINGS.noteDialog.add}
          onCancel={onCancel}
          busy={busy}
        />
      </form>
    </Dialog>
  );
}

function VoidDialog({
  detail,
  onCancel,
  onVoided,
  onChanged,
}: {
  detail: UnitDetail;
  onCancel: () => void;
  onVoided: () => void;
  onChanged: () => void;
}) {
  const execute = useStation((s) => s.execute);
  const session = useStation((s) => s.snapshot!.session);
  const [reason, setReason] = useState('');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pinField = useRef<HTMLInputElement>(null);
  const signer = session?.name ?? '';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const answer = await execute('unit.void', {
      unitId: detail.unit.id,
      reason: reason.trim(),
      pin,
      recordHash: detail.record.recordHash,
    });
    setBusy(false);
    if (answer.ok) return onVoided();
    if (answer.code === 'RECORD_CHANGED') return onChanged();
    setError(answer.message);
    setPin('');
    pinField.current?.focus();
  };
  return (
    <Dialog title={STRINGS.voidDialog.title} onClose={onCancel} tone="danger">
      <form className="form" onSubmit={submit}>
        <p className="danger-warning">{STRINGS.voidDialog.warning}</p>
        <SignedSummary
          title={STRINGS.signDialog.what}
          rows={[
            [STRINGS.signDialog.unit, <span className="mono">{detail.unit.mcuId ?? detail.unit.id}</span>],
            [
              STRINGS.signDialog.recordHash,
              <span className="mono" title={detail.record.recordHash}>
                {shortHash(detail.record.recordHash, 16)}
              </span>,
            ],
            [STRINGS.signDialog.signer, signer],
          ]}
        />
        <label className="field">
          <span>{STRINGS.voidDialog.reason}</span>
          <input
            name="reason"
            required
            minLength={3}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            autoFocus
          />
        </label>
        <PinField label={STRINGS.voidDialog.pin(signer)} value={pin} onChange={setPin} inputRef={pinField} />
        <FormError error={error} />
        <FormButtons
          cancel={STRINGS.voidDialog.cancel}
          submit={STRINGS.voidDialog.void}
          onCancel={onCancel}
          busy={busy}
          tone="danger"
        />
      </form>
    </Dialog>
  );
}
