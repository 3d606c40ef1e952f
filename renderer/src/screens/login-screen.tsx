/**
 * Logging in: operator id and PIN, with a large keypad for gloved fingers; the keyboard works too (type, Enter).
 * The PIN field is the one place scans are not captured. A station with no accounts asks for its first admin.
 */
import { useRef, useState, type FormEvent } from 'react';
import { STRINGS } from '../strings';
import { useStation } from '../store/hooks';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

function Keypad({
  onDigit,
  onBack,
  onClear,
}: {
  onDigit: (d: string) => void;
  onBack: () => void;
  onClear: () => void;
}) {
  return (
    <div className="keypad" role="group" aria-label="PIN keypad">
      {KEYS.map((digit) => (
        <button key={digit} type="button" className="key" onClick={() => onDigit(digit)}>
          {digit}
        </button>
      ))}
      <button type="button" className="key key-small" onClick={onClear}>
        {STRINGS.login.clear}
      </button>
      <button type="button" className="key" onClick={() => onDigit('0')}>
        0
      </button>
      <button type="button" className="key key-small" aria-label={STRINGS.login.backspace} onClick={onBack}>
        ⌫
      </button>
    </div>
  );
}

export function LoginScreen() {
  const execute = useStation((s) => s.execute);
  const demo = useStation((s) => s.snapshot?.station.demoAccounts ?? null);
  const [operatorId, setOperatorId] = useState('');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pinField = useRef<HTMLInputElement>(null);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (busy || operatorId.trim() === '' || pin === '') return;
    setBusy(true);
    const result = await execute('session.login', { operatorId: operatorId.trim(), pin });
    setBusy(false);
    if (!result.ok) {
      setError(result.message);
      setPin('');
      pinField.current?.focus();
    }
  };

  return (
    <>
      <StationHeader />
      <main className="login" aria-labelledby="login-title">
        <form className="login-panel" onSubmit={submit}>
          <h1 id="login-title">{STRINGS.login.title}</h1>
          <label className="field">
            <span>{STRINGS.login.operatorId}</span>
            <input
              name="operatorId"
              autoComplete="username"
              autoFocus
              value={operatorId}
              onChange={(e) => setOperatorId(e.target.value)}
            />
          </label>
          <label className="field">
            <span>{STRINGS.login.pin}</span>
            <input
              ref={pinField}
              name="pin"
              type="password"
              inputMode="numeric"
              autoComplete="current-password"
              data-no-scan=""
              value={pin}
              onChange={(e) => setPin(e.target.value)}
            />
          </label>
          <Keypad
            onDigit={(digit) => setPin((p) => (p.length < 128 ? p + digit : p))}
            onBack={() => setPin((p) => p.slice(0, -1))}
            onClear={() => setPin('')}
          />
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button primary big" disabled={busy}>
            {STRINGS.login.submit}
          </button>
        </form>
        {demo && demo.length > 0 && (
          <aside className="demo-accounts" aria-labelledby="demo-title">
            <h2 id="demo-title">
              <span className="sandbox-tag">{STRINGS.sandbox}</span> {STRINGS.login.demoTitle}
            </h2>
            <ul>
              {demo.map((account) => (
                <li key={account.operatorId}>
                  <button
                    type="button"
                    className="button"
                    onClick={() => {
                      setOperatorId(account.operatorId);
                      setPin('');
                      pinField.current?.focus();
                    }}
                  >
                    {account.operatorId}
                  </button>
                  <span>
                    PIN {account.pin} · {account.roles.join(', ')}
                  </span>
                </li>
              ))}
            </ul>
          </aside>
        )}
      </main>
    </>
  );
}

export function FirstAdminScreen() {
  const execute = useStation((s) => s.execute);
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pin !== again) {
      setError(STRINGS.login.pinsDiffer);
      return;
    }
    const result = await execute('accounts.init', { pin });
    if (!result.ok) setError(result.message);
  };

  return (
    <>
      <StationHeader />
      <main className="login" aria-labelledby="first-admin-title">
        <form className="login-panel" onSubmit={submit}>
          <h1 id="first-admin-title">{STRINGS.login.firstAdminTitle}</h1>
          <p>{STRINGS.login.firstAdminHelp}</p>
          <label className="field">
            <span>{STRINGS.login.pin}</span>
            <input
              type="password"
              data-no-scan=""
              value={pin}
              onChange={(e) => setPin(e.target.value)}
              autoFocus
            />
          </label>
          <label className="field">
            <span>{STRINGS.login.pinAgain}</span>
            <input type="password" data-no-scan="" value={again} onChange={(e) => setAgain(e.target.value)} />
          </label>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button primary big">
            {STRINGS.login.firstAdminSubmit}
          </button>
        </form>
      </main>
    </>
  );
}

/** Which station this is, while nobody is logged in. */
function StationHeader() {
  const station = useStation((s) => s.snapshot?.station);
  if (!station) return null;
  return (
    <header className="banner">
      {station.environment === 'sandbox' && <span className="sandbox-tag">{STRINGS.sandbox}</span>}
      <span className="banner-station">{[station.line, station.name].filter(Boolean).join(' / ')}</span>
      {station.environment === 'sandbox' && <span className="muted">{STRINGS.sandboxNote}</span>}
    </header>
  );
}
