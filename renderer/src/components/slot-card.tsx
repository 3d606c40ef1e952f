/**
 * One slot, readable from two metres: name and port, the board's identity once read, the step in plain words with
 * a progress bar and the time so far, then a big PASS / FAIL (colour + icon + word) with the station's operator
 * text and the actions the station allows now. Clicking a slot that waits for a label binds the next scan to it.
 */
import { memo } from 'react';
import { slotActions, type Slot, type SlotAction } from '../../../electron/station-api';
import { STRINGS } from '../strings';
import { useStation, useUi } from '../store/hooks';
import { bindSlot } from '../store/ui-store';
import { StatusIcon } from './icons';

export type SlotRequest =
  | { kind: 'retry'; slot: Slot }
  | { kind: 'approve'; slot: Slot }
  | { kind: 'skip'; slot: Slot }
  | { kind: 'start'; slot: Slot }
  | { kind: 'cancel'; slot: Slot };

const short = (id: string) => (id.length > 12 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id);
const portName = (port: string | null) => (port ? (port.split('/').pop() ?? port) : '');

function elapsed(fromIso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function statusLine(slot: Slot, ready: { batch: boolean; session: boolean }): string {
  switch (slot.state) {
    case 'empty':
      return STRINGS.slot.plugIn;
    case 'waiting-for-scan':
      return STRINGS.slot.scanLabel;
    case 'board-present':
      return !ready.session
        ? STRINGS.slot.readyNoSession
        : !ready.batch
          ? STRINGS.slot.readyNoBatch
          : STRINGS.slot.ready;
    case 'queued':
      return STRINGS.slot.queued;
    case 'running':
      return slot.unit?.step ? STRINGS.steps[slot.unit.step] : STRINGS.steps.connect;
    case 'passed':
      return slot.present ? STRINGS.slot.removeBoard : STRINGS.slot.boardRemoved;
    case 'failed':
    case 'cancelled':
      return slot.result?.error?.message ?? '';
    case 'skipped':
      return slot.result?.reason ? STRINGS.slot.skippedBy(slot.result.reason, slot.result.by) : '';
  }
}

function actionLabel(action: SlotAction): string {
  switch (action.kind) {
    case 'call-supervisor':
      return STRINGS.actions.callSupervisor;
    default:
      return STRINGS.actions[action.kind];
  }
}

/**
 * Memoised: an event changes one slot (the reducer keeps the others as they were), so only that tile renders
 * again, not all 32 on every event. Store values a tile shows (session, batch, the clock) it reads itself.
 */
export const SlotCard = memo(function SlotCard({
  slot,
  onRequest,
}: {
  slot: Slot;
  onRequest: (request: SlotRequest) => void;
}) {
  const session = useStation((s) => s.snapshot?.session ?? null);
  const batch = useStation((s) => s.snapshot?.batch ?? null);
  const bound = useUi((s) => s.boundSlot === slot.name);
  const now = useUi((s) => s.now);
  const actions = slotActions(slot, session, { batch });
  const word = STRINGS.slot.stateWord[slot.state];
  const bindable = slot.present && (slot.state === 'waiting-for-scan' || slot.state === 'board-present');
  const identity = slot.unit?.identity;
  const serial = slot.scan?.fields.serialNumber;
  const deviceId = slot.result?.deviceId ?? identity?.boardDeviceId ?? null;
  const showWord = slot.state !== 'running' && slot.state !== 'empty' && slot.state !== 'board-present';
  const progress =
    slot.state === 'running' && slot.unit && slot.unit.stepCount > 0
      ? slot.unit.stepIndex / slot.unit.stepCount
      : 0;

  const request = (action: SlotAction) => {
    switch (action.kind) {
      case 'retry':
        return onRequest(action.needsReason ? { kind: 'approve', slot } : { kind: 'retry', slot });
      case 'call-supervisor':
        return onRequest({ kind: 'approve', slot });
      default:
        return onRequest({ kind: action.kind, slot });
    }
  };

  return (
    <section
      className={`slot slot-${slot.state}${bound ? ' slot-bound' : ''}${slot.present ? '' : ' slot-absent'}`}
      aria-label={`Slot ${slot.name}: ${word}`}
      data-slot={slot.name}
      data-state={slot.state}
      onClick={() => {
        if (bindable) bindSlot(bound ? null : slot.name);
      }}
    >
      <header className="slot-head">
        <span className="slot-name">{slot.name}</span>
        <span className="slot-port">{portName(slot.port)}</span>
      </header>
      <dl className="slot-ids">
        {serial && (
          <div>
            <dt>{STRINGS.slot.serial}</dt>
            <dd>{serial}</dd>
          </div>
        )}
        {identity && (
          <div>
            <dt>{STRINGS.slot.mcu}</dt>
            <dd>{short(identity.mcuId)}</dd>
          </div>
        )}
        {deviceId && slot.state === 'failed' && (
          <div>
            <dt>{STRINGS.slot.device}</dt>
            <dd>{deviceId}</dd>
          </div>
        )}
      </dl>
      <div className="slot-status">
        {showWord ? (
          <p className="slot-word">
            <StatusIcon state={slot.state} />
            <span>{word}</span>
          </p>
        ) : slot.state === 'running' && slot.unit ? (
          <div className="slot-progress">
            <p className="slot-step-name">
              {slot.unit.step ? STRINGS.steps[slot.unit.step] : STRINGS.steps.connect}
            </p>
            <p className="slot-step">{STRINGS.slot.step(slot.unit.stepIndex, slot.unit.stepCount)}</p>
            <div
              className="progress"
              role="progressbar"
              aria-label={`${slot.name} progress`}
              aria-valuemin={0}
              aria-valuemax={slot.unit.stepCount}
              aria-valuenow={slot.unit.stepIndex}
            >
              <div className="progress-fill" style={{ width: `${Math.round(progress * 100)}%` }} />
            </div>
          </div>
        ) : null}
        {slot.state === 'passed' && deviceId && (
          <p className="slot-device">
            {STRINGS.slot.device} <span className="device-id">{deviceId}</span>
          </p>
        )}
        {slot.state !== 'running' && (
          <p className="slot-message">
            {statusLine(slot, { batch: batch !== null, session: session !== null })}
          </p>
        )}
        {slot.state === 'running' && slot.unit && (
          <p className="slot-elapsed">{elapsed(slot.unit.startedAt, now)}</p>
        )}
        {slot.state === 'passed' &&
          slot.result?.durationMs !== null &&
          slot.result?.durationMs !== undefined && (
            <p className="slot-elapsed">{(slot.result.durationMs / 1000).toFixed(1)} s</p>
          )}
        {bound && <p className="slot-bind">{STRINGS.slot.bindHint}</p>}
      </div>
      {actions.length > 0 && (
        <div className="slot-actions">
          {actions.map((action) => (
            <button
              key={action.kind}
              type="button"
              className={`button ${action.kind === 'retry' ? 'primary' : ''} ${action.kind === 'call-supervisor' ? 'warn' : ''}`}
              onClick={(event) => {
                event.stopPropagation();
                request(action);
              }}
            >
              {actionLabel(action)}
            </button>
          ))}
        </div>
      )}
    </section>
  );
});
