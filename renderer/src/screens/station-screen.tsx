/**
 * The screen an operator looks at all shift: the batch banner, the slot grid (1 to 32 slots without scrolling on
 * 1920x1080: the grid picks its columns from the slot count, tiles shrink their detail, never the PASS/FAIL word),
 * the last scan and the connection at the bottom, and the dialogs for what needs more than one press.
 */
import { CentralStatusChip } from '../components/central-status';
import { FormButtons, PinField } from '../components/forms';
import { useCallback, useState, type FormEvent } from 'react';
import { hasRole, type Slot } from '../../../electron/station-api';
import { STRINGS } from '../strings';
import { Dialog } from '../components/dialog';
import { SlotCard, type SlotRequest } from '../components/slot-card';
import { gridShape } from '../components/grid-shape';
import { useStation, useUi } from '../store/hooks';
import { notify, saveSettings } from '../store/ui-store';

function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

function BatchBanner({
  onOpen,
  onClose,
  onSettings,
}: {
  onOpen: () => void;
  onClose: () => void;
  onSettings: () => void;
}) {
  const snapshot = useStation((s) => s.snapshot!);
  const execute = useStation((s) => s.execute);
  const { station, batch, session } = snapshot;
  const mayOperate = hasRole(session, ['operator', 'supervisor']);
  const recipe = batch ? snapshot.recipes.find((r) => r.id === batch.recipeId) : undefined;
  const stationName = [station.line, station.name].filter(Boolean).join(' / ');
  return (
    <header className="banner">
      {station.environment === 'sandbox' && (
        <span className="sandbox-tag" title={STRINGS.sandboxNote}>
          {STRINGS.sandbox}
        </span>
      )}
      <span className="banner-station" title={stationName}>
        {stationName}
      </span>
      {batch ? (
        <>
          <span className="banner-batch" title={batch.name}>
            <span className="muted">{STRINGS.banner.batch}</span> {batch.name}
            {batch.workOrder && (
              <>
                {' '}
                <span className="muted">{STRINGS.banner.workOrder}</span> {batch.workOrder}
              </>
            )}
            {recipe && <span className="muted"> · {recipe.name}</span>}
          </span>
          <span className="banner-count" data-testid="batch-count">
            {STRINGS.banner.target(batch.counts.passed, batch.targetQuantity)}
          </span>
          <span className="banner-metric">{STRINGS.banner.fpy(batch.firstPassYield)}</span>
          <span className="banner-metric">{STRINGS.banner.uph(batch.unitsPerHour)}</span>
          {batch.targetReached && <span className="banner-flag">{STRINGS.banner.targetReached}</span>}
          {batch.problem && <span className="banner-problem">{batch.problem}</span>}
        </>
      ) : (
        <span className="banner-batch muted">{STRINGS.banner.noBatch}</span>
      )}
      <span className="banner-spacer" />
      {mayOperate &&
        (batch ? (
          <button type="button" className="button" onClick={onClose}>
            {STRINGS.banner.closeBatch}
          </button>
        ) : (
          <button type="button" className="button primary" onClick={onOpen}>
            {STRINGS.banner.openBatch}
          </button>
        ))}
      <button type="button" className="button" onClick={onSettings}>
        {STRINGS.banner.settings}
      </button>
      {session && (
        <span
          className="banner-user"
          data-testid="logged-in"
          title={STRINGS.banner.loggedInAs(session.name, session.roles)}
        >
          {STRINGS.banner.loggedInAs(session.name, session.roles)}
        </span>
      )}
      <button type="button" className="button" onClick={() => void execute('session.logout', {})}>
        {STRINGS.banner.logout}
      </button>
    </header>
  );
}

function OpenBatchDialog({ onDone }: { onDone: () => void }) {
  const recipes = useStation((s) => s.snapshot!.recipes);
  const execute = useStation((s) => s.execute);
  const [name, setName] = useState('');
  const [workOrder, setWorkOrder] = useState('');
  const [recipeId, setRecipeId] = useState(recipes[0]?.id ?? '');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const quantity = target.trim() === '' ? undefined : Number(target);
    const result = await execute('batch.open', {
      name: name.trim(),
      recipeId,
      ...(workOrder.trim() !== '' && { workOrder: workOrder.trim() }),
      ...(quantity !== undefined && { targetQuantity: quantity }),
    });
    if (result.ok) onDone();
    else setError(result.message);
  };
  return (
    <Dialog title={STRINGS.batchDialog.openTitle} onClose={onDone}>
      <form onSubmit={submit} className="form">
        <label className="field">
          <span>{STRINGS.batchDialog.name}</span>
          <input
            name="batchName"
            required
            maxLength={200}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
        </label>
        <label className="field">
          <span>{STRINGS.batchDialog.workOrder}</span>
          <input
            name="workOrder"
            maxLength={100}
            value={workOrder}
            onChange={(e) => setWorkOrder(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{STRINGS.batchDialog.recipe}</span>
          <select name="recipe" value={recipeId} onChange={(e) => setRecipeId(e.target.value)}>
            {recipes.map((recipe) => (
              <option key={recipe.id} value={recipe.id}>
                {recipe.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{STRINGS.batchDialog.target}</span>
          <input
            name="target"
            type="number"
            min={1}
            inputMode="numeric"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
          />
        </label>
        <FormError error={error} />
        <FormButtons
          cancel={STRINGS.batchDialog.cancel}
          submit={STRINGS.batchDialog.open}
          onCancel={onDone}
        />
      </form>
    </Dialog>
  );
}

function CloseBatchDialog({ onDone }: { onDone: () => void }) {
  const batch = useStation((s) => s.snapshot!.batch);
  const execute = useStation((s) => s.execute);
  const [reason, setReason] = useState('');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (!batch) return null;
  const short = batch.targetQuantity !== null && batch.counts.passed < batch.targetQuantity;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await execute('batch.close', {
      ...(reason.trim() !== '' && { reason: reason.trim() }),
      ...(short && pin !== '' && { pin }),
    });
    if (result.ok) onDone();
    else {
      setError(result.message);
      setPin('');
    }
  };
  return (
    <Dialog title={STRINGS.batchDialog.closeTitle} onClose={onDone}>
      <form onSubmit={submit} className="form">
        {short && <p>{STRINGS.batchDialog.closeShort(batch.counts.passed, batch.targetQuantity!)}</p>}
        <label className="field">
          <span>{STRINGS.batchDialog.reason}</span>
          <input
            name="reason"
            required={short}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            autoFocus
          />
        </label>
        {short && <PinField label={STRINGS.batchDialog.signPin} value={pin} onChange={setPin} />}
        <FormError error={error} />
        <FormButtons
          cancel={STRINGS.batchDialog.cancel}
          submit={STRINGS.batchDialog.close}
          onCancel={onDone}
        />
      </form>
    </Dialog>
  );
}

/** A retry that was not safe: a supervisor logged in gives a reason; otherwise one approves here with their PIN. */
function ApproveDialog({ slot, onDone }: { slot: Slot; onDone: () => void }) {
  const session = useStation((s) => s.snapshot!.session);
  const execute = useStation((s) => s.execute);
  const isSupervisor = hasRole(session, ['supervisor']);
  const [supervisor, setSupervisor] = useState('');
  const [pin, setPin] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await execute('slot.retry', {
      slot: slot.name,
      reason: reason.trim(),
      ...(isSupervisor ? { pin } : { approvedBy: { operatorId: supervisor.trim(), pin } }),
    });
    if (result.ok) onDone();
    else {
      setError(result.message);
      setPin('');
    }
  };
  return (
    <Dialog title={STRINGS.approve.title} onClose={onDone}>
      <form onSubmit={submit} className="form">
        <p>{STRINGS.approve.help}</p>
        <p className="muted">{slot.result?.error?.message}</p>
        {!isSupervisor && (
          <>
            <label className="field">
              <span>{STRINGS.approve.supervisorId}</span>
              <input
                name="supervisorId"
                required
                value={supervisor}
                onChange={(e) => setSupervisor(e.target.value)}
                autoFocus
              />
            </label>
            <label className="field">
              <span>{STRINGS.approve.pin}</span>
              <input
                name="supervisorPin"
                type="password"
                inputMode="numeric"
                data-no-scan=""
                required
                value={pin}
                onChange={(e) => setPin(e.target.value)}
              />
            </label>
          </>
        )}
        <label className="field">
          <span>{STRINGS.approve.reason}</span>
          <input
            name="reason"
            required
            minLength={3}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            autoFocus={isSupervisor}
          />
        </label>
        {isSupervisor && <PinField label={STRINGS.approve.ownPin} value={pin} onChange={setPin} />}
        <FormError error={error} />
        <FormButtons cancel={STRINGS.approve.cancel} submit={STRINGS.approve.approve} onCancel={onDone} />
      </form>
    </Dialog>
  );
}

function SkipDialog({ slot, onDone }: { slot: Slot; onDone: () => void }) {
  const execute = useStation((s) => s.execute);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await execute('slot.skip', { slot: slot.name, reason: reason.trim() });
    if (result.ok) onDone();
    else setError(result.message);
  };
  return (
    <Dialog title={STRINGS.skip.title} onClose={onDone}>
      <form onSubmit={submit} className="form">
        <label className="field">
          <span>{STRINGS.skip.reason}</span>
          <input
            name="reason"
            required
            minLength={3}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            autoFocus
          />
        </label>
        <FormError error={error} />
        <FormButtons cancel={STRINGS.skip.cancel} submit={STRINGS.skip.skip} onCancel={onDone} />
      </form>
    </Dialog>
  );
}

function SettingsDialog({ onDone }: { onDone: () => void }) {
  const settings = useUi((s) => s.settings);
  return (
    <Dialog title={STRINGS.settings.title} onClose={onDone}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          onDone();
        }}
      >
        <label className="check">
          <input
            type="checkbox"
            checked={settings.sound}
            onChange={(e) => saveSettings({ ...settings, sound: e.target.checked })}
          />
          <span>{STRINGS.settings.sound}</span>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={settings.flash}
            onChange={(e) => saveSettings({ ...settings, flash: e.target.checked })}
          />
          <span>{STRINGS.settings.flash}</span>
        </label>
        <div className="form-buttons">
          <button type="submit" className="button primary">
            {STRINGS.settings.done}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Footer() {
  const lastScan = useStation((s) => s.snapshot!.lastScan);
  const connection = useStation((s) => s.connection);
  return (
    <footer className="footer">
      <span>
        <span className="muted">{STRINGS.footer.lastScan}: </span>
        {lastScan
          ? lastScan.accepted
            ? STRINGS.footer.scanTo(lastScan.text, lastScan.slot ?? '')
            : STRINGS.footer.scanRefused(lastScan.text)
          : STRINGS.footer.noScan}
      </span>
      {/* Where the record is going, beside whether this screen reaches the station: the banner has no room. */}
      <span className="footer-status">
        <CentralStatusChip />
        <span className={`connection connection-${connection}`}>
          {connection === 'live' ? STRINGS.connection.live : STRINGS.connection.connecting}
        </span>
      </span>
    </footer>
  );
}

type Open =
  | { kind: 'open-batch' }
  | { kind: 'close-batch' }
  | { kind: 'settings' }
  | { kind: 'approve'; slot: Slot }
  | { kind: 'skip'; slot: Slot }
  | null;

export function StationScreen() {
  const slots = useStation((s) => s.snapshot!.slots);
  const execute = useStation((s) => s.execute);
  const [open, setOpen] = useState<Open>(null);
  const { cols, rows } = gridShape(slots.length);
  const size = slots.length > 16 ? 'small' : slots.length > 6 ? 'medium' : 'large';

  // Stable, so a tile whose slot did not change does not render again (SlotCard is memoised).
  const onRequest = useCallback(
    (request: SlotRequest) => {
      if (request.kind === 'approve' || request.kind === 'skip') {
        setOpen({ kind: request.kind, slot: request.slot });
        return;
      }
      const command =
        request.kind === 'retry' ? 'slot.retry' : request.kind === 'start' ? 'slot.start' : 'slot.cancel';
      void execute(command, { slot: request.slot.name }).then((result) => {
        if (!result.ok) notify(result.message);
      });
    },
    [execute],
  );

  return (
    <div className="station">
      <BatchBanner
        onOpen={() => setOpen({ kind: 'open-batch' })}
        onClose={() => setOpen({ kind: 'close-batch' })}
        onSettings={() => setOpen({ kind: 'settings' })}
      />
      <main
        className={`grid grid-${size}`}
        style={{ ['--cols' as string]: cols, ['--rows' as string]: rows }}
        aria-label="Slots"
      >
        {slots.map((slot) => (
          <SlotCard key={slot.name} slot={slot} onRequest={onRequest} />
        ))}
      </main>
      <Footer />
      {open?.kind === 'open-batch' && <OpenBatchDialog onDone={() => setOpen(null)} />}
      {open?.kind === 'close-batch' && <CloseBatchDialog onDone={() => setOpen(null)} />}
      {open?.kind === 'settings' && <SettingsDialog onDone={() => setOpen(null)} />}
      {open?.kind === 'approve' && <ApproveDialog slot={open.slot} onDone={() => setOpen(null)} />}
      {open?.kind === 'skip' && <SkipDialog slot={open.slot} onDone={() => setOpen(null)} />}
    </div>
  );
}
