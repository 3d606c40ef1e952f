/**
 * The batch report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no external resource.
 * The station's UI shows it as is, and the PDF is this page printed (A4, print CSS, page header and footer from
 * `pdfPageTemplates`). It is what a QA lead reads and signs: the summary, the charts, where failures came from,
 * the people's signatures and corrections, whether the record is intact, and every unit.
 *
 * Every value from the trail is HTML-escaped: serial numbers are scanned from labels and operator notes are typed.
 *
 * The unit register at the end is monospaced text in fixed columns, not a table: Chromium lays out and paginates a
 * 10,000-row table in about 25 s, the same rows as preformatted text in about one.
 */
import { groupChart, paretoChart, stepTimeChart, throughputChart, CHART_COLORS } from './charts';
import type { BatchReportData, ReportUnit } from './data';
import type { BatchStats, Distribution, GroupStats } from './stats';

export interface ReportHtmlExtras {
  /** When the report was made (ISO). */
  generatedAt: string;
  /** The station key that signs the export this report belongs to. */
  signedBy?: { fingerprint: string } | null;
  /** The other files of the export (names), listed with the integrity section. */
  exportFiles?: readonly string[];
  /** The outcome of a full trail verification (`station audit verify`), when the caller ran one. */
  trailVerification?: { ok: boolean; message: string } | null;
  /** How many failed units the failure table lists before referring to the register (default 100). */
  failureRows?: number;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function esc(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** `2026-11-25 19:00:00 UTC` from any ISO UTC time (the trail's +00:00 or Z). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function formatPercent(value: number | null): string {
  return value === null ? '—' : `${(value * 100).toFixed(1)} %`;
}

const formatRate = (value: number | null) => (value === null ? '—' : value.toFixed(value < 10 ? 1 : 0));
const dash = (value: unknown) => (value === null || value === undefined || value === '' ? '—' : esc(value));

const STATE_LABEL: Record<string, string> = {
  passed: 'PASS',
  failed: 'FAIL',
  cancelled: 'CANCELLED',
  'in-progress': 'RUNNING',
  attention: 'ATTENTION',
  voided: 'VOIDED',
};

const CSS = `
@page { size: A4; margin: 17mm 13mm 16mm 13mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; font-size: 9.5px; line-height: 1.35;
  color: #1b1b1b; margin: 0; background: #fff; }
@media screen { body { max-width: 210mm; margin: 0 auto; padding: 12mm 13mm; } }
h1 { font-size: 20px; margin: 0 0 2px; color: #12355b; }
h2 { font-size: 12.5px; margin: 14px 0 6px; padding-bottom: 3px; border-bottom: 1.5px solid #12355b; color: #12355b;
  break-after: avoid; }
h3 { font-size: 10.5px; margin: 8px 0 4px; color: #333; break-after: avoid; }
p { margin: 3px 0; }
.subtitle { color: #555; font-size: 10px; margin-bottom: 8px; }
.badge { display: inline-block; font-size: 8.5px; font-weight: bold; padding: 1px 6px; border-radius: 3px;
  margin-left: 6px; vertical-align: middle; letter-spacing: 0.04em; }
.b-open { background: #fff3cd; color: #7a5b00; border: 1px solid #e0c060; }
.b-closed { background: #e8eef5; color: #12355b; border: 1px solid #9db3cc; }
.b-released { background: #e3f1e4; color: #1e5e22; border: 1px solid #8fc293; }
.b-sandbox { background: #fde2e2; color: #8a1c1c; border: 1px solid #e08c8c; }
.b-valid { background: #e3f1e4; color: #1e5e22; }
.b-invalid { background: #fde2e2; color: #8a1c1c; }
.b-unchecked { background: #eee; color: #444; }
.meta { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 0 14px; margin: 6px 0 10px; }
.meta dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 1px 8px; align-content: start; }
.meta dt { color: #666; white-space: nowrap; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.kpis { display: grid; grid-template-columns: repeat(8, 1fr); gap: 5px; margin: 6px 0 4px; }
.kpi { border: 1px solid #d5dde6; border-radius: 4px; padding: 5px 6px; background: #f6f8fb; }
.kpi .v { font-size: 15px; font-weight: bold; color: #12355b; white-space: nowrap; }
.kpi .l { font-size: 8px; color: #555; text-transform: uppercase; letter-spacing: 0.03em; }
.kpi.pass .v { color: ${CHART_COLORS.passed}; } .kpi.fail .v { color: ${CHART_COLORS.failed}; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 14px; }
figure { margin: 0; break-inside: avoid; }
figure.wide { grid-column: 1 / -1; }
figcaption { font-size: 9.5px; font-weight: bold; color: #333; margin: 4px 0 1px; }
figure svg { display: block; max-width: 100%; height: auto; }
.empty { color: #777; font-style: italic; padding: 18px 0; text-align: center; border: 1px dashed #ccc;
  border-radius: 4px; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; margin: 2px 0 6px; font-size: 8.5px; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th { text-align: left; background: #e8eef5; color: #12355b; font-weight: bold; padding: 3px 4px;
  border-bottom: 1px solid #9db3cc; }
td { padding: 2px 4px; border-bottom: 1px solid #e3e7ec; vertical-align: top; overflow-wrap: anywhere; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.nw { white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono, .mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 8px; }
.fail-t { color: ${CHART_COLORS.failed}; font-weight: bold; }
.pass-t { color: ${CHART_COLORS.passed}; font-weight: bold; }
.note { color: #555; font-size: 8.5px; }
.ok { color: ${CHART_COLORS.passed}; font-weight: bold; }
.bad { color: ${CHART_COLORS.failed}; font-weight: bold; }
.avoid { break-inside: avoid; }
.signoff { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 18px; margin-top: 10px; break-inside: avoid; }
.signoff div { border-top: 1px solid #333; padding-top: 3px; color: #555; font-size: 8.5px; margin-top: 28px; }
.register { break-before: page; }
.register .block { break-inside: avoid; margin-bottom: 4px; }
.register pre, .register .hd { font-family: 'DejaVu Sans Mono', monospace; font-size: 7.3px; line-height: 9.6px;
  margin: 0; white-space: pre; }
.register .hd { font-weight: bold; color: #12355b; border-bottom: 1px solid #9db3cc; background: #e8eef5; }
.register pre b { color: ${CHART_COLORS.failed}; }
.register pre i { color: #7a5b00; font-style: normal; }
`;

function kpi(label: string, value: string, kind = ''): string {
  return `<div class="kpi ${kind}"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
}

function figure(caption: string, svg: string | null, wide: boolean, empty: string): string {
  return `<figure class="${wide ? 'wide' : ''}"><figcaption>${esc(caption)}</figcaption>${
    svg ?? `<div class="empty">${esc(empty)}</div>`
  }</figure>`;
}

function dist(d: Distribution | null): [string, string] {
  return d ? [formatMs(d.medianMs), formatMs(d.p95Ms)] : ['—', '—'];
}

function groupRows(label: string, groups: Array<GroupStats & { label: string }>): string {
  if (groups.length === 0) return '';
  const rows = groups
    .map(
      (g) =>
        `<tr><td>${esc(g.label)}</td><td class="n">${g.units}</td><td class="n">${g.passed}</td><td class="n">${g.failed}</td><td class="n">${g.units - g.passed - g.failed}</td><td class="n">${formatPercent(g.firstPassYield)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>${esc(label)}</th><th class="n">units</th><th class="n">passed</th><th class="n">failed</th><th class="n">other</th><th class="n">first-pass yield</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const slotLabel = (g: { slot: number | null; slotName: string | null }) =>
  g.slotName ?? (g.slot !== null ? `slot ${g.slot}` : '(no slot)');

// --- the unit register -------------------------------------------------------------------------------------------

// The batch's dates are in the summary and units.csv has every id in full: the register keeps to what tells units
// apart on paper (serial, device) and what happened to them, about 120 characters a line.
const REGISTER_COLUMNS: Array<{ title: string; width: number; right?: boolean }> = [
  { title: '#', width: 5, right: true },
  { title: 'serial', width: 17 },
  { title: 'device', width: 16 },
  { title: 'slot', width: 8 },
  { title: 'operator', width: 10 },
  { title: 'result', width: 9 },
  { title: 'att', width: 3, right: true },
  { title: 'error @ step', width: 24 },
  { title: 'ended (UTC)', width: 14 },
  { title: 'time', width: 8, right: true },
];

function fit(text: string, width: number, right = false): string {
  // Control characters would break the fixed columns (a scanner can send a tab).
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const cut = clean.length > width ? `${clean.slice(0, width - 1)}…` : clean;
  return right ? cut.padStart(width) : cut.padEnd(width);
}

function registerLine(unit: ReportUnit, index: number): string {
  const error =
    unit.state === 'passed' ? '' : [unit.errorCode, unit.failedStep].filter((v) => v !== null).join(' @ ');
  const cells = [
    String(index + 1),
    unit.serialNumber ?? '',
    unit.deviceId ?? '',
    unit.slotName ?? (unit.slot !== null ? String(unit.slot) : ''),
    unit.operator ?? '',
    STATE_LABEL[unit.state] ?? unit.state,
    String(unit.attempts),
    error,
    unit.endedAt ? unit.endedAt.slice(5, 19).replace('T', ' ') : '',
    unit.durationMs !== null ? formatMs(unit.durationMs) : '',
  ];
  const line = REGISTER_COLUMNS.map((c, i) => fit(cells[i]!, c.width, c.right)).join(' ');
  const html = esc(line);
  if (unit.state === 'passed') return html;
  return unit.state === 'failed' ? `<b>${html}</b>` : `<i>${html}</i>`;
}

/** Blocks of lines that fit a page each, every block with its column header, so a printed page is readable alone. */
function unitRegister(units: readonly ReportUnit[]): string {
  const header = esc(REGISTER_COLUMNS.map((c) => fit(c.title, c.width, c.right)).join(' '));
  // 96 lines fill an A4 page at this size; the first page also holds the section's heading and note.
  const perBlock = 96;
  const first = 84;
  const blocks: string[] = [];
  for (let start = 0; start < units.length; start = start === 0 ? first : start + perBlock) {
    const lines: string[] = [];
    const end = Math.min(units.length, start + (start === 0 ? first : perBlock));
    for (let i = start; i < end; i++) lines.push(registerLine(units[i]!, i));
    blocks.push(`<div class="block"><div class="hd">${header}</div><pre>${lines.join('\n')}</pre></div>`);
  }
  return blocks.join('');
}

// --- the page ----------------------------------------------------------------------------------------------------

export function renderBatchReportHtml(
  data: BatchReportData,
  stats: BatchStats,
  extras: ReportHtmlExtras,
): string {
  const { batch } = data;
  const c = stats.counts;
  const other = c.cancelled + c.inProgress + c.attention + c.voided;
  const sandbox = data.environment === 'sandbox';
  const badges = [
    `<span class="badge ${batch.state === 'open' ? 'b-open' : 'b-closed'}">${batch.state.toUpperCase()}</span>`,
    batch.releasedAt ? '<span class="badge b-released">RELEASED</span>' : '',
    sandbox ? '<span class="badge b-sandbox">SANDBOX — NOT PRODUCTION DATA</span>' : '',
  ].join('');
  const [unitMedian, unitP95] = dist(stats.unitTime);
  const key = data.chain.stationKeys.at(-1);

  const summary = `
<h1>Batch report: ${esc(batch.name)}${badges}</h1>
<div class="subtitle">Station <b>${esc(data.stationId)}</b> · recipe <b>${esc(batch.recipeId)}</b> · generated ${esc(formatTime(extras.generatedAt))}</div>
<div class="meta">
  <dl><dt>Batch</dt><dd>${esc(batch.name)}</dd><dt>Batch id</dt><dd class="mono">${esc(batch.id)}</dd>
    <dt>Work order</dt><dd>${dash(batch.workOrder)}</dd><dt>Target</dt><dd>${dash(batch.targetQuantity)}</dd>
    <dt>Recipe</dt><dd>${esc(batch.recipeId)}</dd></dl>
  <dl><dt>Opened</dt><dd>${esc(formatTime(batch.openedAt))}${batch.operator ? ` by ${esc(batch.operator)}` : ''}</dd>
    <dt>Closed</dt><dd>${esc(formatTime(batch.closedAt))}</dd>
    ${batch.closeReason ? `<dt>Close reason</dt><dd>${esc(batch.closeReason)}</dd>` : ''}
    <dt>Released</dt><dd>${esc(formatTime(batch.releasedAt))}</dd>
    <dt>First unit</dt><dd>${esc(formatTime(stats.span.firstStartAt))}</dd>
    <dt>Last unit</dt><dd>${esc(formatTime(stats.span.lastEndAt))}</dd></dl>
  <dl><dt>Station</dt><dd>${esc(data.stationId)}</dd><dt>Environment</dt><dd>${dash(data.environment)}</dd>
    <dt>Station key</dt><dd class="mono">${dash(key?.fingerprint)}</dd>
    <dt>Config</dt><dd class="mono">sha256 ${esc(batch.configSha256.slice(0, 16))}…</dd>
    <dt>Operators</dt><dd>${esc(stats.perOperator.map((o) => o.operator).join(', ') || '—')}</dd></dl>
</div>
<div class="kpis">
  ${kpi('units', String(c.units))}${kpi('passed', String(c.passed), 'pass')}${kpi('failed', String(c.failed), 'fail')}
  ${kpi('other', String(other))}${kpi('first-pass yield', formatPercent(stats.firstPassYield))}
  ${kpi('yield', formatPercent(stats.yield))}${kpi('units / hour', formatRate(stats.unitsPerHour))}
  ${kpi('median / p95 unit', `${unitMedian} / ${unitP95}`)}
</div>
<p class="note">Other: ${c.cancelled} cancelled, ${c.inProgress} in progress, ${c.attention} needing attention, ${c.voided} voided.
First-pass yield: units passed on their first attempt (${stats.firstPass}) / units passed or failed. Units per hour: passed units over the
${esc(stats.span.hours.toFixed(2))} h from the first unit's start to the last unit's end. ${stats.failedAttempts} failed attempt${stats.failedAttempts === 1 ? '' : 's'} in all.</p>`;

  const W = 690;
  const H = 336;
  const slotGroups = stats.perSlot.map((g) => ({
    label: slotLabel(g),
    passed: g.passed,
    failed: g.failed,
    other: g.units - g.passed - g.failed,
  }));
  const operatorGroups = stats.perOperator.map((g) => ({
    label: g.operator,
    passed: g.passed,
    failed: g.failed,
    other: g.units - g.passed - g.failed,
  }));
  const groupHeight = (n: number) => Math.max(150, Math.min(32, n) * 18 + 50);
  const charts = `
<h2>Production</h2>
<div class="charts">
  ${figure('Units finished per hour', throughputChart(stats, W, 210), true, 'No unit has finished yet.')}
  ${figure('Failures by cause (Pareto)', paretoChart(stats, H, 240), false, 'No failures.')}
  ${figure('Median and p95 time per step', stepTimeChart(stats, H, 240), false, 'No step has finished yet.')}
  ${figure('Units per slot', groupChart(slotGroups, H, groupHeight(slotGroups.length)), false, 'No units.')}
  ${figure('Units per operator', groupChart(operatorGroups, H, groupHeight(operatorGroups.length)), false, 'No units.')}
</div>`;

  const shifts =
    stats.shifts.length === 0
      ? ''
      : `<div class="avoid"><h3>Per shift (UTC shifts starting ${esc(stats.shiftStarts.join(', '))})</h3>
<table><thead><tr><th>shift</th><th class="n">units</th><th class="n">passed</th><th class="n">failed</th><th class="n">other</th><th class="n">first-pass yield</th><th class="n">units / hour</th></tr></thead><tbody>${stats.shifts
          .map(
            (s) =>
              `<tr><td>${esc(s.date)} ${esc(s.shift)}</td><td class="n">${s.units}</td><td class="n">${s.passed}</td><td class="n">${s.failed}</td><td class="n">${s.units - s.passed - s.failed}</td><td class="n">${formatPercent(s.firstPassYield)}</td><td class="n">${formatRate(s.unitsPerHour)}</td></tr>`,
          )
          .join('')}</tbody></table></div>`;

  const stepTable =
    stats.steps.length === 0
      ? ''
      : `<div class="avoid"><h3>Time per step</h3><table><thead><tr><th>step</th><th class="n">runs</th><th class="n">passed</th><th class="n">failed</th><th class="n">skipped</th><th class="n">median</th><th class="n">p95</th><th class="n">max</th></tr></thead><tbody>${stats.steps
          .map((s) => {
            const [median, p95] = dist(s.time);
            return `<tr><td>${esc(s.step)}</td><td class="n">${s.count}</td><td class="n">${s.passed}</td><td class="n">${s.failed}</td><td class="n">${s.skipped}</td><td class="n">${median}</td><td class="n">${p95}</td><td class="n">${formatMs(s.time?.maxMs)}</td></tr>`;
          })
          .join('')}</tbody></table></div>`;

  const groups = `<div class="charts"><div>${groupRows(
    'slot',
    stats.perSlot.map((g) => ({ ...g, label: slotLabel(g) })),
  )}</div><div>${groupRows(
    'operator',
    stats.perOperator.map((g) => ({ ...g, label: g.operator })),
  )}</div></div>`;

  const failureLimit = extras.failureRows ?? 100;
  const failedUnits = data.units.filter((u) => u.state !== 'passed');
  const causes =
    stats.failuresByCause.length === 0
      ? '<p>No attempt failed.</p>'
      : `<table><thead><tr><th>cause</th><th>step</th><th>description (latest)</th><th class="n">failures</th><th class="n">share</th><th class="n">cumulative</th></tr></thead><tbody>${stats.failuresByCause
          .map(
            (f) =>
              `<tr><td class="mono">${esc(f.code)}</td><td>${dash(f.step)}</td><td>${dash(f.description)}</td><td class="n">${f.count}</td><td class="n">${formatPercent(f.share)}</td><td class="n">${formatPercent(f.cumulativeShare)}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const failureTable =
    failedUnits.length === 0
      ? '<p>Every unit passed.</p>'
      : `<table><thead><tr><th>serial</th><th>slot</th><th>operator</th><th>result</th><th class="n">att.</th><th>step</th><th>cause</th><th>message</th><th class="n">ended (UTC)</th></tr></thead><tbody>${failedUnits
          .slice(0, failureLimit)
          .map(
            (u) =>
              `<tr><td class="mono nw">${dash(u.serialNumber)}</td><td class="nw">${dash(u.slotName ?? u.slot)}</td><td>${dash(u.operator)}</td><td class="nw ${u.state === 'failed' ? 'fail-t' : ''}">${esc(STATE_LABEL[u.state] ?? u.state)}</td><td class="n">${u.attempts}</td><td class="nw">${dash(u.failedStep)}</td><td class="mono">${dash(u.errorCode)}</td><td>${dash(u.message)}</td><td class="n">${esc((u.endedAt ?? u.startedAt).slice(5, 19).replace('T', ' '))}</td></tr>`,
          )
          .join('')}</tbody></table>${
          failedUnits.length > failureLimit
            ? `<p class="note">${failedUnits.length - failureLimit} more units that did not pass are in the unit register below (in colour) and in units.csv.</p>`
            : ''
        }`;

  const signatures =
    data.signatures.length === 0
      ? '<p>No electronic signature is recorded on this batch or its units.</p>'
      : `<table><thead><tr><th>signed</th><th>signer</th><th>meaning</th><th>subject</th><th>reason</th><th class="n">covers seq</th><th>validity</th></tr></thead><tbody>${data.signatures
          .map(
            (s) =>
              `<tr><td class="nw">${esc(formatTime(s.at))}</td><td>${esc(s.signerName)}${s.signerId ? ` <span class="note">(${esc(s.signerId)})</span>` : ''}</td><td><b>${esc(s.meaning)}</b></td><td>${esc(s.subject.type)} <span class="mono">${esc(s.subject.id)}</span></td><td>${dash(s.reason)}</td><td class="n">${s.coversSeq}</td><td><span class="badge b-${esc(s.validity)}">${esc(s.validity.toUpperCase())}</span>${s.problem ? `<div class="note">${esc(s.problem)}</div>` : ''}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const corrections =
    data.corrections.length === 0
      ? '<p>No correction is recorded.</p>'
      : `<table><thead><tr><th class="n">seq</th><th>recorded</th><th>by</th><th>unit</th><th class="n">corrects seq</th><th>reason</th><th>sets</th></tr></thead><tbody>${data.corrections
          .map(
            (k) =>
              `<tr><td class="n">${k.seq}</td><td class="nw">${esc(formatTime(k.at))}</td><td class="nw">${dash(k.operator)}</td><td class="mono">${dash(k.unitId)}</td><td class="n">${dash(k.supersedes)}</td><td>${esc(k.reason)}</td><td class="mono">${esc(
                Object.entries(k.set)
                  .map(([field, value]) => `${field} = ${JSON.stringify(value)}`)
                  .join(', ') || '—',
              )}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const notes =
    data.notes.length === 0
      ? ''
      : `<h3>Notes</h3><table><thead><tr><th>recorded</th><th>by</th><th>unit</th><th>note</th></tr></thead><tbody>${data.notes
          .map(
            (n) =>
              `<tr><td class="nw">${esc(formatTime(n.at))}</td><td class="nw">${dash(n.operator)}</td><td class="mono">${dash(n.unitId)}</td><td>${esc(n.text)}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const retries =
    data.retryAuthorizations.length === 0
      ? ''
      : `<h3>Retries a supervisor authorised</h3><table><thead><tr><th>recorded</th><th>authorised by</th><th>slot</th><th>cause</th><th>reason</th></tr></thead><tbody>${data.retryAuthorizations
          .map(
            (r) =>
              `<tr><td>${esc(formatTime(r.at))}</td><td>${dash(r.authorizedBy)}</td><td>${dash(r.slotName)}</td><td class="mono">${dash(r.errorCode)}</td><td>${esc(r.reason)}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const chain = data.chain;
  const checkpoint = chain.lastCheckpoint;
  const integrity = `
<div class="avoid">
<h2>Record integrity</h2>
<table><tbody>
<tr><td style="width:32%">Audit trail covered up to</td><td>${
    chain.head
      ? `event seq <b>${chain.head.seq}</b>, hash <span class="mono">${esc(chain.head.hash)}</span> (${esc(formatTime(chain.head.at))})`
      : 'the trail is empty'
  }</td></tr>
<tr><td>Last signed checkpoint</td><td>${
    checkpoint
      ? `seq ${checkpoint.seq} (${esc(checkpoint.reason)}, ${esc(formatTime(checkpoint.at))}) by <span class="mono">${esc(checkpoint.publicKeyFp)}</span>: ${
          checkpoint.signatureValid
            ? '<span class="ok">signature valid</span>'
            : '<span class="bad">SIGNATURE INVALID</span>'
        }; ${chain.unsignedTail} event${chain.unsignedTail === 1 ? '' : 's'} after it, protected by the hash chain until the next checkpoint`
      : '<span class="bad">none: this trail is not signed by a station key</span>'
  }</td></tr>
<tr><td>Station key recorded in the trail</td><td class="mono">${esc(chain.stationKeys.map((k) => k.fingerprint).join(', ') || 'none')}</td></tr>
${
  extras.trailVerification
    ? `<tr><td>Full trail verification</td><td>${
        extras.trailVerification.ok
          ? `<span class="ok">intact</span>: ${esc(extras.trailVerification.message)}`
          : `<span class="bad">FAILED</span>: ${esc(extras.trailVerification.message)}`
      }</td></tr>`
    : ''
}
<tr><td>This export</td><td>${
    extras.signedBy
      ? `signed by the station key <span class="mono">${esc(extras.signedBy.fingerprint)}</span>; `
      : ''
  }manifest.json lists ${esc((extras.exportFiles ?? []).join(', ') || 'every file')} with its SHA-256 and size. Check it with <span class="mono">station report verify DIR --db FILE</span>.</td></tr>
</tbody></table>
<div class="signoff"><div>Reviewed by (name)</div><div>Signature</div><div>Date</div></div>
</div>`;

  const register = `
<section class="register">
<h2>Unit register (${data.units.length} unit${data.units.length === 1 ? '' : 's'})</h2>
<p class="note">Every unit of the batch in start order, its latest attempt. Failed units in red, other units that did not pass in amber.
Long values are cut (…); units.csv and units.json hold them whole.</p>
${data.units.length === 0 ? '<p>No unit was started in this batch.</p>' : unitRegister(data.units)}
</section>`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Batch report ${esc(batch.name)} — ${esc(data.stationId)}</title>
<style>${CSS}</style></head>
<body>
${summary}
${charts}
${shifts}
${stepTable}
<h3>Per slot and per operator</h3>
${groups}
<h2>Failures</h2>
<h3>Causes (every failed attempt)</h3>
${causes}
<h3>Units that did not pass</h3>
${failureTable}
${retries}
<h2>Signatures</h2>
${signatures}
<h2>Corrections</h2>
${corrections}
${notes}
${integrity}
${register}
</body></html>
`;
}

/** The PDF's running header and footer: station and batch on every page, and page n / total. */
export function pdfPageTemplates(
  data: BatchReportData,
  generatedAt: string,
): { headerTemplate: string; footerTemplate: string } {
  const style =
    "font-family:'DejaVu Sans',Arial,sans-serif;font-size:7.5px;color:#555;width:100%;margin:0 13mm;display:flex;justify-content:space-between;";
  const sandbox = data.environment === 'sandbox' ? ' · SANDBOX' : '';
  return {
    headerTemplate: `<div style="${style}border-bottom:0.5px solid #aaa;padding-bottom:2px;"><span>Station <b>${esc(data.stationId)}</b> · Batch <b>${esc(data.batch.name)}</b>${sandbox}</span><span>Batch report · recipe ${esc(data.batch.recipeId)}</span></div>`,
    footerTemplate: `<div style="${style}"><span>Batch id ${esc(data.batch.id)} · generated ${esc(formatTime(generatedAt))}</span><span>Page <span class="pageNumber"></span>/<span class="totalPages"></span></span></div>`,
  };
}
