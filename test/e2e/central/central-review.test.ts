/**
 * The central QA/supervisor host: `station serve --central URL` over a real PostgreSQL that two real stations
 * (`station provision`, virtual boards) shipped to with `station sync`. QA's commands answer across stations, with
 * the station, site and line filters, and a unit's record, a batch's numbers and its CSV are exactly what each
 * station makes from its own file. What would write a station's record is refused with where to do it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchStats, loadBatchReportData, renderCsv, verifyReportDir } from '../../../electron/reports';
import { openReviewDb, unitDetail } from '../../../electron/review';
import type { UnitDetail, UnitFacets, UnitPage } from '../../../electron/station-api';
import { launchBrowser, openPage, pageProblems, shot } from '../../support/browser';
import { runStation, startStation } from '../../support/cli';
import {
  CENTRAL_TEST_PASSWORD,
  startCentralPostgres,
  type CentralPostgres,
} from '../../support/central-postgres';
import { freePort } from '../../support/served-client';
import { tempDir } from '../../support/temp-dirs';
import { WebHostClient } from '../../support/web-host-client';

const SANDBOX_CONFIG = fileURLToPath(new URL('../../../station-config/sandbox.json', import.meta.url));
const TOKEN = 'central-review-test-token-0123456789abcdef';

interface TestStation {
  id: string;
  name: string;
  line: string;
  dir: string;
  config: string;
}

let central: CentralPostgres;
let host: ReturnType<typeof startStation>;
let client: WebHostClient;
const stations: TestStation[] = [];
let hostDir: string;
let hostOrigin: string;

function makeStation(id: string, line: string): TestStation {
  const dir = tempDir(`station-central-review-${id}-`);
  const config = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as {
    station: Record<string, unknown>;
  } & Record<string, unknown>;
  delete config.$schema;
  const name = `Station ${id}`;
  config.station = { ...config.station, id, name, line, site: 'Plant 7', dataDir: dir };
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { id, name, line, dir, config: file };
}

/** `failing`: a unit is made to fail, and provision says so with exit code 1. */
async function provision(station: TestStation, batch: string, more: string[] = [], failing = false) {
  const run = await runStation(
    ['provision', '--config', station.config, '--data', station.dir, '--sim', '3', '--batch', batch].concat(
      ['--operator', 'qa', '--json'],
      more,
    ),
    { env: central.env, timeoutMs: 90_000 },
  );
  expect(run.code, run.stderr).toBe(failing ? 1 : 0);
}

async function sync(station: TestStation) {
  const run = await runStation(
    ['sync', '--central', central.url, '--config', station.config, '--data', station.dir, '--once'],
    { env: central.env, timeoutMs: 60_000 },
  );
  expect(run.code, run.stderr).toBe(0);
}

async function command<T>(name: string, input: unknown = {}): Promise<T> {
  const answer = await client.command(name, input);
  return answer.body as T;
}

beforeAll(async () => {
  central = await startCentralPostgres();
  stations.push(makeStation('plant7-l1-st1', 'Line 1'), makeStation('plant7-l2-st1', 'Line 2'));
  await provision(stations[0]!, 'Week 49 sensors');
  await provision(stations[0]!, 'Week 49 sensors B', ['--sim-fault', '1:storage-fail@COMMIT'], true);
  await provision(stations[1]!, 'Week 49 gateways');
  for (const station of stations) await sync(station);
  hostDir = tempDir('station-central-qa-host-');
  const port = await freePort();
  host = startStation(['serve', '--central', central.url, '--data', hostDir, '--port', String(port)], {
    ...central.env,
    STATION_WEB_TOKEN: TOKEN,
  });
  await host.waitForLines(1, 60_000);
  hostOrigin = `http://127.0.0.1:${port}`;
  client = new WebHostClient(hostOrigin, TOKEN);
  const login = await command<{ ok: boolean }>('session.login', { operatorId: 'qa', pin: '3333' });
  expect(login.ok).toBe(true);
}, 240_000);

afterAll(async () => {
  await client?.close();
  if (host) {
    host.child.kill('SIGTERM');
    await host.exited;
  }
  await central?.destroy();
});

function localUnits(station: TestStation): Array<{ id: string; batch_id: string; state: string }> {
  const db = openReviewDb(join(station.dir, 'station.sqlite'));
  try {
    return db
      .prepare<[], { id: string; batch_id: string; state: string }>('SELECT id, batch_id, state FROM units')
      .all();
  } finally {
    db.close();
  }
}

describe('the central QA host (station serve --central)', () => {
  it('says what it is: the central record, read-only, no line', async () => {
    const status = await command<{
      ok: true;
      snapshot: { centralRecord: { database: string } | null; slots: unknown[] };
    }>('station.status');
    expect(status.snapshot.centralRecord?.database).toBe(central.url);
    expect(status.snapshot.slots).toEqual([]);
    expect(host.stderr()).toContain('central QA host over');
  });

  it("lists every station's units, newest first, and filters by station, site and line", async () => {
    const all = await command<{ ok: true } & UnitPage>('units.query', { limit: 100 });
    const expected = stations.flatMap((s) => localUnits(s).map((u) => `${s.id}/${u.id}`)).sort();
    expect(all.units.map((u) => `${u.stationId}/${u.id}`).sort()).toEqual(expected);
    expect(all.total).toBe(expected.length);
    const starts = all.units.map((u) => u.startedAt);
    expect([...starts].sort().reverse()).toEqual(starts);
    expect(all.units.every((u) => u.stationName === stations.find((s) => s.id === u.stationId)?.name)).toBe(
      true,
    );

    const first = await command<{ ok: true } & UnitPage>('units.query', {
      filter: { stationId: stations[0]!.id },
    });
    expect(first.units.map((u) => u.id).sort()).toEqual(
      localUnits(stations[0]!)
        .map((u) => u.id)
        .sort(),
    );
    const line2 = await command<{ ok: true } & UnitPage>('units.query', { filter: { line: 'Line 2' } });
    expect(line2.units.map((u) => u.stationId)).toEqual(localUnits(stations[1]!).map(() => stations[1]!.id));
    const site = await command<{ ok: true } & UnitPage>('units.query', { filter: { site: 'Plant 7' } });
    expect(site.total).toBe(expected.length);
    const nowhere = await command<{ ok: true } & UnitPage>('units.query', { filter: { site: 'Plant 9' } });
    expect(nowhere.units).toEqual([]);
    const failed = await command<{ ok: true } & UnitPage>('units.query', { filter: { state: 'failed' } });
    expect(failed.units.map((u) => u.stationId)).toEqual([stations[0]!.id]);

    // Keyset pages of 2 walk the same rows as one page of 100, none twice.
    const walked: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page: { ok: true } & UnitPage = await command('units.query', {
        limit: 2,
        ...(cursor && { cursor }),
      });
      walked.push(...page.units.map((u) => `${u.stationId}/${u.id}`));
      cursor = page.next;
    } while (cursor);
    expect(walked).toEqual(all.units.map((u) => `${u.stationId}/${u.id}`));

    // Search by a chip id finds it on whichever station made it.
    const unit = failed.units[0]!;
    const found = await command<{ ok: true } & UnitPage>('units.query', {
      filter: { search: unit.mcuId!.slice(0, 6) },
    });
    expect(found.units.some((u) => u.id === unit.id)).toBe(true);
  });

  it('offers every station, site and line in the filter menus, and batches with their station', async () => {
    const { facets } = await command<{ ok: true; facets: UnitFacets }>('units.facets');
    expect(facets.stations?.map((s) => [s.id, s.site, s.line])).toEqual([
      [stations[0]!.id, 'Plant 7', 'Line 1'],
      [stations[1]!.id, 'Plant 7', 'Line 2'],
    ]);
    expect(facets.batches.map((b) => `${b.stationId}:${b.name}`).sort()).toEqual([
      `${stations[0]!.id}:Week 49 sensors`,
      `${stations[0]!.id}:Week 49 sensors B`,
      `${stations[1]!.id}:Week 49 gateways`,
    ]);
    expect(facets.errorCodes.length).toBeGreaterThan(0);
  });

  it("shows a unit's record exactly as its station shows it", async () => {
    for (const station of stations) {
      const db = openReviewDb(join(station.dir, 'station.sqlite'));
      try {
        for (const unit of localUnits(station)) {
          const own = unitDetail(db, unit.id)!;
          const answer = await command<{ ok: true; detail: UnitDetail }>('unit.detail', {
            unitId: unit.id,
            stationId: station.id,
          });
          expect(answer.ok, JSON.stringify(answer)).toBe(true);
          const { stationId, ...centralUnit } = answer.detail.unit;
          expect(stationId).toBe(station.id);
          // Everything: attempts, steps, signatures, fingerprints, the record hash and the chain position.
          expect({ ...answer.detail, unit: centralUnit }).toEqual(own);
        }
      } finally {
        db.close();
      }
    }
    const missing = await command<{ ok: false; code: string; message: string }>('unit.detail', {
      unitId: 'no-such',
    });
    expect(missing).toMatchObject({ ok: false, code: 'UNIT_NOT_FOUND' });
    expect(missing.message).toMatch(/no unit no-such in the central record/);
  });

  it("gives a batch's numbers and CSV exactly as its station does", async () => {
    const { facets } = await command<{ ok: true; facets: UnitFacets }>('units.facets');
    for (const batch of facets.batches) {
      const station = stations.find((s) => s.id === batch.stationId)!;
      const file = join(station.dir, 'station.sqlite');
      const own = loadBatchReportData(file, batch.id);
      const dashboard = await command<{ ok: true; stats: unknown }>('batch.dashboard', {
        batchId: batch.id,
        stationId: station.id,
      });
      expect(dashboard.ok, JSON.stringify(dashboard)).toBe(true);
      expect(dashboard.stats).toEqual(JSON.parse(JSON.stringify(batchStats(own))));
      const exported = await command<{
        ok: true;
        export: {
          dir: string;
          files: Array<{ name: string; contentBase64: string | null }>;
          manifest: { batch: { id: string } };
        };
      }>('batch.export', { batchId: batch.id, stationId: station.id, formats: ['csv'] });
      expect(exported.ok, JSON.stringify(exported)).toBe(true);
      // Signed by the QA host's own key (the manifest carries it), and whole.
      const verified = verifyReportDir(exported.export.dir);
      expect(verified.problems).toEqual([]);
      expect(verified.manifest?.stationId).toBe(station.id);
      const csv = exported.export.files.find((f) => f.name.endsWith('.csv'))!;
      expect(Buffer.from(csv.contentBase64!, 'base64').toString('utf8')).toBe(
        Buffer.from(renderCsv(own)).toString('utf8'),
      );
    }
  }, 60_000);

  it('refuses what would write a station record, saying where to do it', async () => {
    const [unit] = localUnits(stations[0]!);
    const sign = await command<{ ok: false; code: string; message: string }>('record.sign', {
      subject: { type: 'unit', id: unit!.id },
      meaning: 'reviewed',
      pin: '3333',
      recordHash: 'a'.repeat(64),
    });
    expect(sign).toMatchObject({ ok: false, code: 'READ_ONLY' });
    expect(sign.message).toMatch(/on the station that made the unit/);
    const note = await command<{ ok: false; code: string }>('unit.note', {
      unitId: unit!.id,
      text: 'checked',
    });
    expect(note).toMatchObject({ ok: false, code: 'READ_ONLY' });
    const open = await command<{ ok: false; code: string; message: string }>('batch.open', {
      name: 'x',
      recipeId: 'sensor-v2',
    });
    expect(open.ok).toBe(false);
  });

  it('verifies every station chain when QA asks, and never shows the database password', async () => {
    const verify = await command<{ ok: true; report: { intact: boolean; message: string } }>('audit.verify');
    expect(verify.report.intact).toBe(true);
    expect(verify.report.message).toMatch(/^intact: 2 stations, \d+ events/);
    const status = await command<{ ok: true; status: { lastVerified: { intact: boolean } | null } }>(
      'audit.status',
    );
    expect(status.status.lastVerified?.intact).toBe(true);
    expect(host.stderr()).not.toContain(CENTRAL_TEST_PASSWORD);
    expect(host.lines.join('\n')).not.toContain(CENTRAL_TEST_PASSWORD);
  });
});

describe('the central record in the browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  // One person at a time is logged in to a host: each test starts at the login screen.
  beforeEach(async () => {
    await command('session.logout');
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The host's page at 1920x1080, logged in with the keypad as `operatorId`. */
  async function hostPage(operatorId: string, pin: string): Promise<Page> {
    const page = await openPage(browser, `${hostOrigin}/?token=${TOKEN}`);
    await page.getByLabel('Operator id').fill(operatorId);
    for (const digit of pin) await page.getByRole('button', { name: digit, exact: true }).click();
    await page.getByRole('button', { name: 'Log in' }).click();
    return page;
  }

  /**
   * Saves what the person saw; nothing may have failed on the page, nor be wider than the screen (QA's screens
   * scroll down a long record by design, never sideways).
   */
  async function looked(page: Page, name: string): Promise<void> {
    await shot(page, name);
    expect(pageProblems(page)).toEqual([]);
    const wider = await page.evaluate('document.documentElement.scrollWidth > window.innerWidth');
    expect(wider, `${name} scrolls sideways`).toBe(false);
  }

  it("QA sees every station's units with their station, filters by line, and opens a unit read-only", async () => {
    const page = await hostPage('qa', '3333');
    await expect.poll(() => page.locator('.central-record-tag').textContent()).toBe('CENTRAL');
    const rows = page.locator('tr.unit-row');
    const total = stations.reduce((n, s) => n + localUnits(s).length, 0);
    await expect.poll(() => rows.count()).toBe(total);
    expect(await page.getByRole('columnheader', { name: 'Station' }).count()).toBe(1);
    await looked(page, 'central-review-list');

    await page.getByLabel('Line').selectOption('Line 2');
    await expect.poll(() => rows.count()).toBe(localUnits(stations[1]!).length);
    const shown = await page.locator('td.cell-station').allTextContents();
    expect(new Set(shown)).toEqual(new Set([stations[1]!.name]));
    await page.getByLabel('Line').selectOption('');
    await page.getByLabel('Outcome').selectOption('failed');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().locator('.row-open').click();
    await page.getByRole('heading', { name: /^Unit / }).waitFor();
    expect(await page.getByText(/Read-only here: sign, add notes and void on the station/).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Sign reviewed' }).count()).toBe(0);
    expect(page.url()).toContain(`/${encodeURIComponent(stations[0]!.id)}`);
    await looked(page, 'central-review-unit');
    await page.context().close();
  }, 60_000);

  it("a supervisor's dashboard picks any station's batch and shows its numbers", async () => {
    const page = await hostPage('supervisor', '2222');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const picker = page.getByLabel('Batch');
    await expect.poll(() => picker.locator('option').count()).toBe(3);
    const labels = await picker.locator('option').allTextContents();
    expect(labels.filter((label) => label.startsWith(`${stations[0]!.name} · `))).toHaveLength(2);
    const gateways = labels.find((label) => label.includes('Week 49 gateways'))!;
    await picker.selectOption({ label: gateways });
    await expect
      .poll(() => page.locator('#batch-name').textContent(), { timeout: 20_000 })
      .toBe('Week 49 gateways');
    expect(await page.getByText(/Release it on the station that ran it/).count()).toBe(1);
    await looked(page, 'central-dashboard');
    await page.context().close();
  }, 60_000);

  it('an operator-only person is told this host runs no line', async () => {
    const page = await hostPage('operator', '1111');
    await page.getByText(/This is the central record: it runs no line/).waitFor();
    await looked(page, 'central-operator');
    await page.context().close();
  }, 60_000);
});
