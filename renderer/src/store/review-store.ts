/**
 * The review screen's list, kept while the person opens a unit and comes back: the filters as typed, the pages
 * the station sent so far (it pages with keyset cursors; the page never asks for everything), the filter menus and
 * the chain status. Every answer is the station's; a slower answer to an older request is dropped.
 */
import { createStore } from 'zustand/vanilla';
import type {
  ChainStatus,
  UnitFacets,
  UnitQuery,
  UnitRow,
  UNIT_STATE_FILTERS,
} from '../../../electron/station-api';
import { utcFieldToIso } from '../components/format';
import type { StationState } from './station-store';

export type Execute = StationState['execute'];

/** The filters as the fields hold them (strings; '' is "any"). */
export interface ReviewFilters {
  search: string;
  from: string;
  to: string;
  batchId: string;
  state: '' | (typeof UNIT_STATE_FILTERS)[number];
  errorCode: string;
  operator: string;
  slot: string;
  recipeId: string;
  reviewed: '' | 'yes' | 'no';
  /** The central record only. */
  site: string;
  line: string;
  stationId: string;
}

export const NO_FILTERS: ReviewFilters = {
  search: '',
  from: '',
  to: '',
  batchId: '',
  state: '',
  errorCode: '',
  operator: '',
  slot: '',
  recipeId: '',
  reviewed: '',
  site: '',
  line: '',
  stationId: '',
};

/**
 * A unit's or batch's key in lists and menus: on the central record an id is its station's own, so the station is
 * part of it ("station/id"); on a station the id alone. Station ids are slugs, without "/".
 */
export const scopedKey = (item: { id: string; stationId?: string | undefined }): string =>
  item.stationId ? `${item.stationId}/${item.id}` : item.id;

/** The key's parts again (a menu's value). */
export function parseScopedKey(key: string): { stationId: string | null; id: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { stationId: null, id: key }
    : { stationId: key.slice(0, slash), id: key.slice(slash + 1) };
}

export const rowKey = (row: Pick<UnitRow, 'id' | 'stationId'>): string => scopedKey(row);

export const PAGE_SIZE = 50;

export interface ReviewState {
  filters: ReviewFilters;
  rows: UnitRow[];
  next: string | null;
  total: number | null;
  totalCapped: boolean;
  status: 'idle' | 'loading' | 'loading-more' | 'ready' | 'error';
  error: string | null;
  facets: UnitFacets | null;
  chain: ChainStatus | null;
  chainBusy: boolean;
  chainError: string | null;
  /** The unit the person last opened (its rowKey), so the list can put focus back on its row. */
  lastOpened: string | null;
}

export const reviewStore = createStore<ReviewState>()(() => ({
  filters: NO_FILTERS,
  rows: [],
  next: null,
  total: null,
  totalCapped: false,
  status: 'idle',
  error: null,
  facets: null,
  chain: null,
  chainBusy: false,
  chainError: null,
  lastOpened: null,
}));

export function toQuery(filters: ReviewFilters): UnitQuery {
  const query: UnitQuery = {};
  const search = filters.search.trim();
  if (search !== '') query.search = search;
  const from = utcFieldToIso(filters.from);
  if (from) query.from = from;
  const to = utcFieldToIso(filters.to);
  if (to) query.to = to;
  if (filters.batchId) {
    const choice = parseScopedKey(filters.batchId);
    query.batchId = choice.id;
    if (choice.stationId) query.stationId = choice.stationId;
  }
  if (filters.state) query.state = filters.state;
  if (filters.errorCode) query.errorCode = filters.errorCode;
  if (filters.operator) query.operator = filters.operator;
  if (filters.slot !== '') query.slot = Number(filters.slot);
  if (filters.recipeId) query.recipeId = filters.recipeId;
  if (filters.reviewed) query.reviewed = filters.reviewed === 'yes';
  if (filters.site) query.site = filters.site;
  if (filters.line) query.line = filters.line;
  // A station/batch pair from the batch menu names its station, whatever the Station menu says.
  if (filters.stationId && !query.stationId) query.stationId = filters.stationId;
  return query;
}

let request = 0;

/** The first page for these filters (replacing what the list showed). */
export async function loadUnits(execute: Execute, filters: ReviewFilters): Promise<void> {
  const id = ++request;
  reviewStore.setState({ filters, status: 'loading', error: null });
  const answer = await execute('units.query', { filter: toQuery(filters), limit: PAGE_SIZE });
  if (id !== request) return;
  if (!answer.ok) {
    reviewStore.setState({ status: 'error', error: answer.message, rows: [], next: null, total: null });
    return;
  }
  reviewStore.setState({
    status: 'ready',
    rows: answer.units,
    next: answer.next,
    total: answer.total,
    totalCapped: answer.totalCapped,
  });
}

/** The next page after what the list holds. */
export async function loadMore(execute: Execute): Promise<void> {
  const { next, filters, status } = reviewStore.getState();
  if (!next || status === 'loading' || status === 'loading-more') return;
  const id = ++request;
  reviewStore.setState({ status: 'loading-more', error: null });
  const answer = await execute('units.query', { filter: toQuery(filters), limit: PAGE_SIZE, cursor: next });
  if (id !== request) return;
  if (!answer.ok) {
    reviewStore.setState({ status: 'error', error: answer.message });
    return;
  }
  const seen = new Set(reviewStore.getState().rows.map(rowKey));
  reviewStore.setState((state) => ({
    status: 'ready',
    rows: [...state.rows, ...answer.units.filter((row) => !seen.has(rowKey(row)))],
    next: answer.next,
  }));
}

/** A scanned label's value: `SN:ABC123` searches for ABC123 (the serial as the station recorded it). */
export function scannedSearch(text: string): string {
  const match = /^[A-Za-z]{1,8}:(.+)$/.exec(text.trim());
  return (match ? match[1]! : text).trim();
}

/** A scan on the review screen: the list searched for it (from wherever the person was on that screen). */
export function searchScan(execute: Execute, text: string): void {
  void loadUnits(execute, { ...reviewStore.getState().filters, search: scannedSearch(text) });
}

/** One unit's row again, after an action changed it (reviewed, voided). */
export async function refreshRow(execute: Execute, unitId: string, stationId?: string): Promise<void> {
  const answer = await execute('units.query', {
    filter: { search: unitId, ...(stationId && { stationId }) },
    limit: 5,
  });
  if (!answer.ok) return;
  const row = answer.units.find((unit) => unit.id === unitId);
  if (!row) return;
  reviewStore.setState((state) => ({
    rows: state.rows.map((old) => (rowKey(old) === rowKey(row) ? row : old)),
  }));
}

export async function loadFacets(execute: Execute): Promise<void> {
  const answer = await execute('units.facets', {});
  if (answer.ok) reviewStore.setState({ facets: answer.facets });
}

export async function loadChain(execute: Execute): Promise<void> {
  const answer = await execute('audit.status', {});
  if (answer.ok) reviewStore.setState({ chain: answer.status, chainError: null });
  else reviewStore.setState({ chainError: answer.message });
}

/** Re-walks the whole chain on the station, then shows the status it recorded. */
export async function verifyChain(execute: Execute): Promise<void> {
  reviewStore.setState({ chainBusy: true, chainError: null });
  const answer = await execute('audit.verify', {});
  if (!answer.ok) reviewStore.setState({ chainError: answer.message });
  await loadChain(execute);
  reviewStore.setState({ chainBusy: false });
}

/** Forgets the list (a different person logged in). */
export function resetReview(): void {
  request++;
  reviewStore.setState(reviewStore.getInitialState());
}
