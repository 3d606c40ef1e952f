/**
 * QA review: the station's whole history of units, newest first, filtered and searched by the station and paged
 * with its keyset cursors (the page holds what it was sent, never everything); a unit opens on Enter or a click.
 * The chain status strip stays on top: when the trail was last verified, how that went, and Verify now.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { UnitFacets, UnitRow } from '../../../electron/station-api';
import { STRINGS } from '../strings';
import { formatDuration, formatTime, shortHash } from '../components/format';
import { UnitStateBadge } from '../components/unit-state';
import { useReview, useStation } from '../store/hooks';
import {
  loadChain,
  loadFacets,
  loadMore,
  loadUnits,
  NO_FILTERS,
  reviewStore,
  rowKey,
  scopedKey,
  verifyChain,
  type ReviewFilters,
} from '../store/review-store';
import { navigate } from '../store/route';
import { UnitDetailView } from './unit-detail';

export function ReviewScreen({ unitId, stationId }: { unitId: string | null; stationId: string | null }) {
  const execute = useStation((s) => s.execute);
  useEffect(() => {
    void loadChain(execute);
  }, [execute]);
  return (
    <div className="review">
      <ChainStrip />
      {unitId ? (
        <UnitDetailView key={`${stationId ?? ''}/${unitId}`} unitId={unitId} stationId={stationId} />
      ) : (
        <UnitList />
      )}
    </div>
  );
}

function ChainStrip() {
  const execute = useStation((s) => s.execute);
  const chain = useReview((s) => s.chain);
  const busy = useReview((s) => s.chainBusy);
  const error = useReview((s) => s.chainError);
  const central = useStation((s) => s.snapshot?.centralRecord ?? null);
  const last = chain?.lastVerified ?? null;
  const tone = !last ? 'unknown' : last.intact ? 'intact' : 'broken';
  return (
    <section
      className={`chain-strip chain-${tone}`}
      aria-label={STRINGS.chain.label}
      data-testid="chain-status"
    >
      <span className="chain-title">{central ? STRINGS.chain.centralLabel : STRINGS.chain.label}</span>
      <span className="chain-verdict" role="status">
        {!chain ? (
          STRINGS.review.loading
        ) : !last ? (
          central ? (
            STRINGS.chain.centralNotVerified
          ) : (
            STRINGS.chain.notVerified
          )
        ) : last.intact ? (
          <>
            <span aria-hidden="true">✓ </span>
            {STRINGS.chain.intact}
          </>
        ) : (
          <>
            <span aria-hidden="true">✗ </span>
            {STRINGS.chain.broken(last.firstBadSeq)}
          </>
        )}
      </span>
      {last && (
        <span className="chain-detail">
          <span className="muted">{STRINGS.chain.lastVerified}</span> {formatTime(last.at)} UTC ·{' '}
          {STRINGS.chain.scope[last.scope] ?? last.scope} · {STRINGS.chain.by(last.by)}
          <span className="chain-message">{last.message}</span>
        </span>
      )}
      {chain?.head && (
        <span className="chain-fact">
          <span className="muted">{STRINGS.chain.head}</span> {chain.head.seq}
        </span>
      )}
      {chain && !central && (
        <span className="chain-fact" title={chain.stationKeyFingerprint}>
          <span className="muted">{STRINGS.chain.key}</span>{' '}
          <span className="mono">{shortHash(chain.stationKeyFingerprint, 24)}</span>
        </span>
      )}
      {error && (
        <span className="chain-error" role="alert">
          {error}
        </span>
      )}
      <button type="button" className="button" disabled={busy} onClick={() => void verifyChain(execute)}>
        {busy ? STRINGS.chain.verifying : STRINGS.chain.verify}
      </button>
    </section>
  );
}

function UnitList() {
  const execute = useStation((s) => s.execute);
  const filters = useReview((s) => s.filters);
  const rows = useReview((s) => s.rows);
  const status = useReview((s) => s.status);
  const error = useReview((s) => s.error);
  const total = useReview((s) => s.total);
  const capped = useReview((s) => s.totalCapped);
  const next = useReview((s) => s.next);
  const facets = useReview((s) => s.facets);
  const central = useStation((s) => s.snapshot?.centralRecord ?? null) !== null;
  const [search, setSearch] = useState(filters.search);
  const table = useRef<HTMLTableSectionElement>(null);

  useEffect(() => {
    const { status: now, lastOpened } = reviewStore.getState();
    if (now === 'idle') void loadUnits(execute, reviewStore.getState().filters);
    void loadFacets(execute);
    if (lastOpened) {
      table.current
        ?.querySelector<HTMLElement>(`[data-row-key="${CSS.escape(lastOpened)}"] .row-open`)
        ?.focus();
    }
  }, [execute]);

  // The search box shows what the list was searched for (a scan fills it too).
  useEffect(() => setSearch(filters.search), [filters.search]);

  // What the search box shows is what is searched, also when a menu changes before Enter was pressed.
  const apply = (change: Partial<ReviewFilters>) =>
    void loadUnits(execute, { ...filters, search, ...change });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply({ search });
  };
  const open = (row: UnitRow) => {
    reviewStore.setState({ lastOpened: rowKey(row) });
    navigate('review', row.id, { stationId: row.stationId ?? null });
  };
  const onRowKey = (event: KeyboardEvent<HTMLTableSectionElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...(table.current?.querySelectorAll<HTMLElement>('.row-open') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLElement);
    if (at < 0) return;
    event.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))]?.focus();
  };

  return (
    <main className="review-main" aria-labelledby="review-title">
      <div className="review-toolbar">
        <h1 id="review-title">{STRINGS.review.title}</h1>
        <p className="review-count" role="status" data-testid="units-count">
          {status === 'loading' ? STRINGS.review.loading : STRINGS.review.units(total, capped, rows.length)}
          {status !== 'loading' && next && (
            <span className="muted"> · {STRINGS.review.showing(rows.length)}</span>
          )}
        </p>
        <button
          type="button"
          className="button"
          onClick={() => {
            setSearch('');
            void loadUnits(execute, NO_FILTERS);
          }}
        >
          {STRINGS.review.clear}
        </button>
        <button type="button" className="button" onClick={() => void loadUnits(execute, filters)}>
          {STRINGS.review.refresh}
        </button>
      </div>
      <form className="review-filters" onSubmit={submit} role="search" aria-label={STRINGS.review.filters}>
        <div className="field field-search">
          <label htmlFor="unit-search">{STRINGS.review.search}</label>
          <div className="search-row">
            <input
              id="unit-search"
              type="search"
              name="search"
              value={search}
              placeholder={STRINGS.review.searchPlaceholder}
              aria-describedby="search-help"
              maxLength={128}
              onChange={(e) => setSearch(e.target.value)}
            />
            <button type="submit" className="button primary">
              {STRINGS.review.searchButton}
            </button>
          </div>
          <small id="search-help" className="muted">
            {STRINGS.review.searchHelp}
          </small>
        </div>
        <label className="field">
          <span>{STRINGS.review.from}</span>
          <input
            type="datetime-local"
            name="from"
            value={filters.from}
            onChange={(e) => apply({ from: e.target.value })}
          />
        </label>
        <label className="field">
          <span>{STRINGS.review.to}</span>
          <input
            type="datetime-local"
            name="to"
            value={filters.to}
            onChange={(e) => apply({ to: e.target.value })}
          />
        </label>
        {central && (
          <>
            <FilterSelect
              label={STRINGS.review.site}
              value={filters.site}
              options={distinctOf(facets, 'site')}
              onChange={(value) => apply({ site: value })}
            />
            <FilterSelect
              label={STRINGS.review.line}
              value={filters.line}
              options={distinctOf(facets, 'line')}
              onChange={(value) => apply({ line: value })}
            />
            <FilterSelect
              label={STRINGS.review.station}
              value={filters.stationId}
              options={(facets?.stations ?? []).map((station) => [station.id, station.name ?? station.id])}
              onChange={(value) => apply({ stationId: value })}
            />
          </>
        )}
        <FilterSelect
          label={STRINGS.review.reviewed}
          value={filters.reviewed}
          options={[
            ['yes', STRINGS.review.yes],
            ['no', STRINGS.review.no],
          ]}
          onChange={(value) => apply({ reviewed: value as ReviewFilters['reviewed'] })}
        />
        <FilterSelect
          label={STRINGS.review.batch}
          value={filters.batchId}
          options={batchOptions(facets)}
          onChange={(value) => apply({ batchId: value })}
        />
        <FilterSelect
          label={STRINGS.review.state}
          value={filters.state}
          options={Object.entries(STRINGS.review.stateFilter)}
          onChange={(value) => apply({ state: value as ReviewFilters['state'] })}
        />
        <FilterSelect
          label={STRINGS.review.errorCode}
          value={filters.errorCode}
          options={(facets?.errorCodes ?? []).map((code) => [code, code])}
          onChange={(value) => apply({ errorCode: value })}
        />
        <FilterSelect
          label={STRINGS.review.operator}
          value={filters.operator}
          options={(facets?.operators ?? []).map((name) => [name, name])}
          onChange={(value) => apply({ operator: value })}
        />
        <FilterSelect
          label={STRINGS.review.slot}
          value={filters.slot}
          options={(facets?.slots ?? []).map((slot) => [String(slot), String(slot)])}
          onChange={(value) => apply({ slot: value })}
        />
        <FilterSelect
          label={STRINGS.review.recipe}
          value={filters.recipeId}
          options={(facets?.recipes ?? []).map((id) => [id, id])}
          onChange={(value) => apply({ recipeId: value })}
        />
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <table className="data-table units-table" aria-label={STRINGS.review.tableLabel}>
        <thead>
          <tr>
            {central && <th scope="col">{STRINGS.review.columns.station}</th>}
            <th scope="col">{STRINGS.review.columns.time}</th>
            <th scope="col">{STRINGS.review.columns.unit}</th>
            <th scope="col">{STRINGS.review.columns.serial}</th>
            <th scope="col">{STRINGS.review.columns.batch}</th>
            <th scope="col" className="num">
              {STRINGS.review.columns.slot}
            </th>
            <th scope="col">{STRINGS.review.columns.operator}</th>
            <th scope="col">{STRINGS.review.columns.state}</th>
            <th scope="col">{STRINGS.review.columns.errorCode}</th>
            <th scope="col" className="num">
              {STRINGS.review.columns.duration}
            </th>
            <th scope="col">{STRINGS.review.columns.reviewed}</th>
          </tr>
        </thead>
        <tbody ref={table} onKeyDown={onRowKey}>
          {rows.map((row) => (
            <tr
              key={rowKey(row)}
              className="unit-row"
              data-unit-id={row.id}
              data-row-key={rowKey(row)}
              onClick={() => open(row)}
            >
              {central && (
                <td className="cell-station" title={row.stationId}>
                  {row.stationName ?? row.stationId}
                </td>
              )}
              <td className="nowrap">{formatTime(row.startedAt)}</td>
              <td>
                <button
                  type="button"
                  className="row-open mono"
                  onClick={(e) => {
                    e.stopPropagation();
                    open(row);
                  }}
                >
                  {row.mcuId ?? shortHash(row.id, 8)}
                </button>
              </td>
              <td className="mono">{row.serialNumber ?? '–'}</td>
              <td className="cell-batch" title={row.batchName}>
                {row.batchName}
              </td>
              <td className="num">{row.slot ?? '–'}</td>
              <td>{row.operator ?? '–'}</td>
              <td>
                <UnitStateBadge state={row.state} />
              </td>
              <td className="mono cell-code">{row.errorCode ?? ''}</td>
              <td className="num nowrap">{formatDuration(row.durationMs)}</td>
              <td className="nowrap">
                {row.reviewedAt ? (
                  <span className="reviewed-yes">
                    <span aria-hidden="true">✓ </span>
                    {formatTime(row.reviewedAt)}
                  </span>
                ) : (
                  <span className="muted">{STRINGS.review.notReviewed}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {status === 'ready' && rows.length === 0 && <p className="empty">{STRINGS.review.none}</p>}
      {next && (
        <div className="load-more">
          <button
            type="button"
            className="button big"
            disabled={status === 'loading-more'}
            onClick={() => void loadMore(execute)}
          >
            {status === 'loading-more' ? STRINGS.review.loading : STRINGS.review.loadMore}
          </button>
        </div>
      )}
    </main>
  );
}

function batchOptions(facets: UnitFacets | null): Array<[string, string]> {
  return [...(facets?.batches ?? [])]
    .sort((a, b) => b.openedAt.localeCompare(a.openedAt))
    .map((batch) => [
      scopedKey(batch),
      `${batch.stationId ? `${batch.stationName ?? batch.stationId} · ` : ''}${batch.name} (${formatTime(batch.openedAt).slice(0, 10)})`,
    ]);
}

/** The sites or lines of the stations shipping to the central record, once each. */
function distinctOf(facets: UnitFacets | null, field: 'site' | 'line'): Array<[string, string]> {
  const values = new Set(
    (facets?.stations ?? []).flatMap((station) => (station[field] ? [station[field]] : [])),
  );
  return [...values].sort().map((value) => [value, value]);
}

function FilterSelect({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: Array<[string, string]>;
  onChange: (value: string) => void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{STRINGS.review.any}</option>
        {options.map(([key, text]) => (
          <option key={key} value={key}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}
