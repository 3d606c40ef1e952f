/** Pieces every dialog form shares: the station's refusal, the PIN a signature re-enters, Cancel and submit. */
import type { ReactNode, Ref } from 'react';

export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A PIN (or password) for signing: never captured as a scan, never remembered by the browser. */
export function PinField({
  label,
  value,
  onChange,
  autoFocus,
  inputRef,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  autoFocus?: boolean;
  inputRef?: Ref<HTMLInputElement>;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        ref={inputRef}
        name="pin"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        data-no-scan=""
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoFocus={autoFocus}
      />
    </label>
  );
}

/** What a signature covers, shown before the PIN is asked for. */
export function SignedSummary({ title, rows }: { title: string; rows: Array<[string, ReactNode]> }) {
  return (
    <section className="signed-summary" aria-label={title}>
      <h3>{title}</h3>
      <dl>
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** Cancel and the form's submit button; submit is disabled while the station works on it. */
export function FormButtons({
  cancel,
  submit,
  onCancel,
  busy = false,
  tone = 'primary',
}: {
  cancel: string;
  submit: string;
  onCancel: () => void;
  busy?: boolean;
  /** `danger` for what cannot be undone (voiding a unit). */
  tone?: 'primary' | 'danger';
}) {
  return (
    <div className="form-buttons">
      <button type="button" className="button" onClick={onCancel}>
        {cancel}
      </button>
      <button type="submit" className={`button ${tone}`} disabled={busy}>
        {submit}
      </button>
    </div>
  );
}
