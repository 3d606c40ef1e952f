/**
 * The supervisor's dashboard: one batch's numbers as the station computes them (counts, yields, pace, unit times,
 * per shift / operator / slot / step, failures by cause), the batch report as it will print, signed exports
 * (PDF, CSV, JSON in OpenHTF's shape, CFX) with a download for each file the station sent back, and the release
 * of a closed batch, signed with the PIN.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { BatchStats, ReportExport, ReportFormat } from '../../../electron/station-api';
import { STRINGS } from '../strings';
import { Dialog } from '../components/dialog';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  formatRate,
  formatTime,
  shortHash,
} from '../components/format';
import { FormButtons, FormError, PinField, SignedSummary } from '../components/forms';
import { ReportFrame } from '../components/report-frame';
import { useReview, useStation } from '../store/hooks';
import { loadFacets, scopedKey } from '../store/review-store';
import { navigate } from '../store/route';

interface Released {
  at: string;
  by: string | null;
}

export function DashboardScreen({
  batchId,
  stationId,
}: {
  batchId: string | null;
  stationId: string | null;
}) {
  const execute = useStation((s) => s.execute);
  const facets = useReview((s) => s.facets);
  const batches = [...(facets?.batches ?? [])].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  const newest = batches[0] ?? null;
  const newestId = newest?.id ?? null;
  const newestStation = newest?.stationId ?? null;
  // A link to a batch without its station (typed, or from before the central record): the station that has it.
  const impliedStation =
    batchId && !stationId ? (batches.find((b) => b.id === batchId)?.stationId ?? null) : stationId;

  useEffect(() => {
    void loadFacets(execute);
  }, [execute]);
  useEffect(() => {
    if (!batchId && newestId) navigate('dashboard', newestId, { replace: true, stationId: newestStation });
  }, [batchId, newestId, newestStation]);
  const picked = batchId ? scopedKey({ id: batchId, stationId: impliedStation ?? undefined }) : '';

  return (
    <div className="dashboard">
      <main className="review-main" aria-labelledby="dashboard-title">
        <div className="dashboard-head">
          <h1 id="dashboard-title">{STRINGS.dashboard.title}</h1>
          {batches.length > 0 && (
            <div className="field field-inline">
              <label htmlFor="batch-picker">{STRINGS.dashboard.batch}</label>
              <select
                id="batch-picker"
                name="batch"
                value={picked}
                onChange={(e) => {
                  const batch = batches.find((b) => scopedKey(b) === e.target.value);
                  if (batch) navigate('dashboard', batch.id, { stationId: batch.stationId ?? null });
                }}
              >
                {batches.map((batch) => (
                  <option key={scopedKey(batch)} value={scopedKey(batch)}>
                    {(batch.stationId ? `${batch.stationName ?? batch.stationId} · ` : '') +
                      STRINGS.dashboard.batchOption(
                        batch.name,
                        STRINGS.dashboard.state[batch.releasedAt ? 'released' : batch.state] ?? batch.state,
                        formatTime(batch.openedAt).slice(0, 16),
                      )}
                  </option>
                ))}
              </select>
            </div>
          )}
        </div>
        {facets && batches.length === 0 && <p className="empty">{STRINGS.dashboard.noBatches}</p>}
        {batchId && <BatchDashboard key={picked} batchId={batchId} stationId={impliedStation} />}
      </main>
    </div>
  );
}

function BatchDashboard({ batchId, stationId }: { batchId: string; stationId: string | null }) {
  const execute = useStation((s) => s.execute);
  const central = useStation((s) => s.snapshot?.centralRecord ?? null);
  const [stats, setStats] = useState<BatchStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [released, setReleased] = useState<Released | null>(null);
  const [releasing, setReleasing] = useState(false);

  useEffect(() => {
    let live = true;
    void execute('batch.dashboard', { batchId, ...(stationId && { stationId }) }).then((answer) => {
      if (!live) return;
      if (!answer.ok) return setError(answer.message);
      setStats(answer.stats);
      const { releasedAt, releasedBy } = answer.stats.batch;
      setReleased(releasedAt ? { at: releasedAt, by: releasedBy } : null);
    });
    return () => {
      live = false;
    };
  }, [execute, batchId, stationId]);

  if (!stats) {
    return error ? (
      <p className="form-error" role="alert">
        {error}
      </p>
    ) : (
      <p className="empty">{STRINGS.dashboard.loading}</p>
    );
  }
  const { batch, counts } = stats;
  const state = released ? 'released' : batch.state;
  return (
    <>
      <section className="batch-line" aria-labelledby="batch-name">
        <div className="batch-line-main">
          <h2 id="batch-name" className="batch-name">
            {batch.name}
          </h2>
          <span className={`badge badge-batch-${state}`} data-testid="batch-state">
            {STRINGS.dashboard.state[state] ?? state.toUpperCase()}
          </span>
          <span className="banner-spacer" />
          {released ? (
            <span className="released-note" role="status">
              ✓ {STRINGS.dashboard.released(`${formatTime(released.at)} UTC`, released.by)}
            </span>
          ) : central ? (
            <span className="muted">{STRINGS.dashboard.releaseOnStation}</span>
          ) : batch.state === 'closed' ? (
            <button type="button" className="button primary big" onClick={() => setReleasing(true)}>
              {STRINGS.dashboard.release}
            </button>
          ) : (
            <span className="muted">{STRINGS.dashboard.releaseOpen}</span>
          )}
        </div>
        <p className="batch-facts">
          <span>
            <span className="muted">{STRINGS.dashboard.recipe}</span> {batch.recipeId}
          </span>
          <span>
            <span className="muted">{STRINGS.dashboard.opened}</span> {formatTime(batch.openedAt)} UTC
          </span>
          {batch.closedAt && (
            <span>
              <span className="muted">{STRINGS.dashboard.closed}</span> {formatTime(batch.closedAt)} UTC
            </span>
          )}
        </p>
      </section>

      <div className="tiles" data-testid="tiles">
        <Tile label={STRINGS.dashboard.tiles.passed} value={formatCount(counts.passed)} tone="pass" />
        <Tile label={STRINGS.dashboard.tiles.failed} value={formatCount(counts.failed)} tone="fail" />
        <Tile label={STRINGS.dashboard.tiles.fpy} value={formatPercent(stats.firstPassYield)} />
        <Tile label={STRINGS.dashboard.tiles.yield} value={formatPercent(stats.yield)} />
        <Tile label={STRINGS.dashboard.tiles.uph} value={formatRate(stats.unitsPerHour)} />
        <Tile label={STRINGS.dashboard.tiles.median} value={formatDuration(stats.unitTime?.medianMs)} />
        <Tile label={STRINGS.dashboard.tiles.p95} value={formatDuration(stats.unitTime?.p95Ms)} />
      </div>
      <p className="muted units-line">
        {STRINGS.dashboard.unitsLine(
          counts.units,
          counts.cancelled,
          counts.inProgress,
          counts.attention,
          counts.voided,
        )}
      </p>

      <div className="dash-grid">
        <TablePanel title={STRINGS.dashboard.failures}>
          {stats.failuresByCause.length === 0 ? (
            <p className="muted">{STRINGS.dashboard.noFailures}</p>
          ) : (
            <SimpleTable
              head={[
                STRINGS.dashboard.col.code,
                STRINGS.dashboard.col.step,
                STRINGS.dashboard.col.description,
                STRINGS.dashboard.col.count,
                STRINGS.dashboard.col.share,
                STRINGS.dashboard.col.cumulative,
              ]}
              numeric={[3, 4, 5]}
              rows={stats.failuresByCause.map((cause) => [
                <span className="mono code">{cause.code}</span>,
                <span className="nowrap">{cause.step ?? '–'}</span>,
                cause.description ?? '–',
                cause.count,
                formatPercent(cause.share),
                formatPercent(cause.cumulativeShare),
              ])}
            />
          )}
        </TablePanel>
        <div className="dash-column">
          <TablePanel title={STRINGS.dashboard.perStep}>
            <SimpleTable
              head={[
                STRINGS.dashboard.col.step,
                STRINGS.dashboard.col.count,
                STRINGS.dashboard.col.passed,
                STRINGS.dashboard.col.failed,
                STRINGS.dashboard.col.skipped,
                STRINGS.dashboard.col.median,
                STRINGS.dashboard.col.p95,
              ]}
              numeric={[1, 2, 3, 4, 5, 6]}
              rows={stats.steps.map((step) => [
                step.step,
                step.count,
                step.passed,
                step.failed,
                step.skipped,
                formatDuration(step.time?.medianMs),
                formatDuration(step.time?.p95Ms),
              ])}
            />
          </TablePanel>
        </div>
        <div className="dash-column">
          <TablePanel title={STRINGS.dashboard.shifts}>
            <SimpleTable
              head={[
                STRINGS.dashboard.col.shift,
                STRINGS.dashboard.col.date,
                STRINGS.dashboard.col.units,
                STRINGS.dashboard.col.passed,
                STRINGS.dashboard.col.failed,
                STRINGS.dashboard.col.fpy,
                STRINGS.dashboard.col.uph,
              ]}
              numeric={[2, 3, 4, 5, 6]}
              rows={stats.shifts.map((shift) => [
                shift.shift,
                shift.date,
                shift.units,
                shift.passed,
                shift.failed,
                formatPercent(shift.firstPassYield),
                formatRate(shift.unitsPerHour),
              ])}
            />
          </TablePanel>
          <TablePanel title={STRINGS.dashboard.perOperator}>
            <SimpleTable
              head={[
                STRINGS.dashboard.col.operator,
                STRINGS.dashboard.col.units,
                STRINGS.dashboard.col.passed,
                STRINGS.dashboard.col.failed,
                STRINGS.dashboard.col.fpy,
              ]}
              numeric={[1, 2, 3, 4]}
              rows={stats.perOperator.map((row) => [
                row.operator,
                row.units,
                row.passed,
                row.failed,
                formatPercent(row.firstPassYield),
              ])}
            />
          </TablePanel>
          <TablePanel title={STRINGS.dashboard.perSlot}>
            <SimpleTable
              head={[
                STRINGS.dashboard.col.slot,
                STRINGS.dashboard.col.units,
                STRINGS.dashboard.col.passed,
                STRINGS.dashboard.col.failed,
                STRINGS.dashboard.col.fpy,
              ]}
              numeric={[1, 2, 3, 4]}
              rows={stats.perSlot.map((row) => [
                row.slotName ?? (row.slot === null ? '–' : String(row.slot)),
                row.units,
                row.passed,
                row.failed,
                formatPercent(row.firstPassYield),
              ])}
            />
          </TablePanel>
        </div>
      </div>

      <ReportSection batchId={batchId} stationId={stationId} name={batch.name} />

      {releasing && (
        <ReleaseDialog
          stats={stats}
          onCancel={() => setReleasing(false)}
          onReleased={(value) => {
            setReleasing(false);
            setReleased(value);
            void loadFacets(execute);
          }}
        />
      )}
    </>
  );
}

function Tile({ label, value, tone }: { label: string; value: string; tone?: 'pass' | 'fail' }) {
  return (
    <div className={`tile${tone ? ` tile-${tone}` : ''}`}>
      <span className="tile-value">{value}</span>
      <span className="tile-label">{label}</span>
    </div>
  );
}

function TablePanel({ title, children }: { title: string; children: ReactNode }) {
  const id = `panel-${title.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function SimpleTable({
  head,
  rows,
  numeric = [],
}: {
  head: string[];
  rows: ReactNode[][];
  numeric?: number[];
}) {
  const num = (index: number) => (numeric.includes(index) ? 'num' : undefined);
  return (
    <table className="data-table">
      <thead>
        <tr>
          {head.map((text, index) => (
            <th key={text} scope="col" className={num(index)}>
              {text}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, r) => (
          <tr key={r}>
            {row.map((cell, index) => (
              <td key={index} className={num(index)}>
                {cell}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const EXPORTS: Array<{ format: ReportFormat; label: string }> = [
  { format: 'pdf', label: STRINGS.dashboard.exportPdf },
  { format: 'csv', label: STRINGS.dashboard.exportCsv },
  { format: 'json', label: STRINGS.dashboard.exportJson },
  { format: 'cfx', label: STRINGS.dashboard.exportCfx },
];

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = window.atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Object URLs for the files the station sent back, revoked when the export is replaced or the screen goes. */
function useDownloads(result: ReportExport | null): Record<string, string> {
  const [urls, setUrls] = useState<Record<string, string>>({});
  useEffect(() => {
    const made: Record<string, string> = {};
    for (const file of result?.files ?? []) {
      if (file.contentBase64 === null) continue;
      const blob = new window.Blob([decodeBase64(file.contentBase64)], { type: file.mediaType });
      made[file.name] = window.URL.createObjectURL(blob);
    }
    setUrls(made);
    return () => Object.values(made).forEach((url) => window.URL.revokeObjectURL(url));
  }, [result]);
  return urls;
}

function ReportSection({
  batchId,
  stationId,
  name,
}: {
  batchId: string;
  stationId: string | null;
  name: string;
}) {
  const execute = useStation((s) => s.execute);
  const [html, setHtml] = useState<string | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [busy, setBusy] = useState<ReportFormat | 'preview' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ReportExport | null>(null);
  const [zoom, setZoom] = useState(1.5);
  const urls = useDownloads(result);

  const preview = async () => {
    if (previewing) {
      setPreviewing(false);
      return;
    }
    setBusy('preview');
    setError(null);
    const answer = await execute('batch.report', { batchId, ...(stationId && { stationId }) });
    setBusy(null);
    if (!answer.ok) return setError(answer.message);
    setHtml(answer.html);
    setPreviewing(true);
  };
  const exportAs = async (format: ReportFormat) => {
    setBusy(format);
    setError(null);
    const answer = await execute('batch.export', {
      batchId,
      formats: [format],
      ...(stationId && { stationId }),
    });
    setBusy(null);
    if (answer.ok) setResult(answer.export);
    else setError(answer.message);
  };

  return (
    <section className="panel report-panel" aria-labelledby="report-title">
      <h2 id="report-title">{STRINGS.dashboard.report}</h2>
      <p className="muted">{STRINGS.dashboard.exportHelp}</p>
      <div className="report-actions">
        <button type="button" className="button" disabled={busy !== null} onClick={() => void preview()}>
          {busy === 'preview'
            ? STRINGS.dashboard.previewLoading
            : previewing
              ? STRINGS.dashboard.hidePreview
              : STRINGS.dashboard.preview}
        </button>
        {previewing && (
          <div className="field field-inline">
            <label htmlFor="report-zoom">{STRINGS.dashboard.zoom}</label>
            <select id="report-zoom" value={zoom} onChange={(e) => setZoom(Number(e.target.value))}>
              {[1, 1.25, 1.5, 2].map((value) => (
                <option key={value} value={value}>
                  {Math.round(value * 100)} %
                </option>
              ))}
            </select>
          </div>
        )}
        <span className="report-actions-gap" />
        {EXPORTS.map(({ format, label }) => (
          <button
            key={format}
            type="button"
            className={`button${format === 'pdf' ? ' primary' : ''}`}
            disabled={busy !== null}
            onClick={() => void exportAs(format)}
          >
            {busy === format ? STRINGS.dashboard.exporting : label}
          </button>
        ))}
      </div>
      <FormError error={error} />
      {result && (
        <div className="export-result" role="status" data-testid="export-result">
          <p>
            {STRINGS.dashboard.exported} <span className="mono break">{result.dir}</span>
          </p>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">{STRINGS.dashboard.file}</th>
                <th scope="col" className="num">
                  {STRINGS.dashboard.size}
                </th>
                <th scope="col">{STRINGS.dashboard.sha256}</th>
                <th scope="col">{STRINGS.dashboard.download}</th>
              </tr>
            </thead>
            <tbody>
              {result.files.map((file) => (
                <tr key={file.name}>
                  <td className="mono">{file.name}</td>
                  <td className="num">{formatBytes(file.bytes)}</td>
                  <td className="mono" title={file.sha256}>
                    {shortHash(file.sha256, 16)}
                  </td>
                  <td>
                    {urls[file.name] ? (
                      <a
                        className="button download"
                        href={urls[file.name]}
                        download={file.name}
                        aria-label={STRINGS.dashboard.downloadName(file.name)}
                      >
                        {STRINGS.dashboard.download}
                      </a>
                    ) : (
                      <span className="muted">{STRINGS.dashboard.onStation}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {previewing && html && (
        <ReportFrame html={html} zoom={zoom} title={STRINGS.dashboard.previewTitle(name)} />
      )}
    </section>
  );
}

function ReleaseDialog({
  stats,
  onCancel,
  onReleased,
}: {
  stats: BatchStats;
  onCancel: () => void;
  onReleased: (released: Released) => void;
}) {
  const execute = useStation((s) => s.execute);
  const session = useStation((s) => s.snapshot!.session);
  const [pin, setPin] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signer = session?.name ?? '';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const answer = await execute('batch.release', {
      batchId: stats.batch.id,
      pin,
      ...(reason.trim() !== '' && { reason: reason.trim() }),
    });
    setBusy(false);
    if (answer.ok) return onReleased({ at: answer.signature.at, by: answer.signature.signerName });
    setError(answer.message);
    setPin('');
  };
  return (
    <Dialog title={STRINGS.releaseDialog.title} onClose={onCancel}>
      <form className="form" onSubmit={submit}>
        <SignedSummary
          title={STRINGS.releaseDialog.what}
          rows={[
            [STRINGS.releaseDialog.batch, stats.batch.name],
            [STRINGS.releaseDialog.batchId, <span className="mono small">{stats.batch.id}</span>],
            [
              STRINGS.dashboard.col.units,
              STRINGS.releaseDialog.counts(stats.counts.passed, stats.counts.failed),
            ],
            [STRINGS.releaseDialog.meaning, STRINGS.releaseDialog.meaningReleased],
            [STRINGS.signDialog.signer, signer],
          ]}
        />
        <PinField label={STRINGS.releaseDialog.pin(signer)} value={pin} onChange={setPin} autoFocus />
        <label className="field">
          <span>{STRINGS.releaseDialog.reason}</span>
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
          cancel={STRINGS.releaseDialog.cancel}
          submit={STRINGS.releaseDialog.release}
          onCancel={onCancel}
          busy={busy}
        />
      </form>
    </Dialog>
  );
}
