/**
 * The Electron shell's pure parts: the `app://station/` file handler (inside the folder only, a CSP on every
 * response), the app's command-line options, and the activity the window's chrome follows.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityOf, watchActivity } from '../../../electron/app/activity';
import { parseAppArgs } from '../../../electron/app/app-args';
import {
  APP_ENTRY_URL,
  appProtocolHandler,
  CONTENT_SECURITY_POLICY,
  placeholderPage,
} from '../../../electron/app/app-protocol';
import type { Slot } from '../../../electron/station-api';
import { StationDouble } from './ipc-fakes';

describe('app://station/ handler', () => {
  let root: string;
  let dist: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'app-protocol-'));
    dist = join(root, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dist, 'assets', 'main-abc.js'), 'console.log(1)');
    writeFileSync(join(dist, '.env'), 'SECRET=1');
    writeFileSync(join(root, 'outside.txt'), 'outside');
    symlinkSync(join(root, 'outside.txt'), join(dist, 'assets', 'link.txt'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const handler = () => appProtocolHandler({ rendererDir: dist, placeholderHtml: () => 'placeholder' });

  it('serves the app with its content type and the CSP header on every response', async () => {
    const index = await handler()({ url: APP_ENTRY_URL });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await index.text()).toContain('<title>app</title>');
    const root = await handler()({ url: 'app://station/' });
    expect(await root.text()).toContain('<title>app</title>');
    const script = await handler()({ url: 'app://station/assets/main-abc.js?v=1' });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const missing = await handler()({ url: 'app://station/nope.js' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('the CSP allows the app’s own files only: no inline script, eval, frames, forms or plugins', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values];
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)|\*|https?:/);
  });

  it.each([
    'app://station/../outside.txt',
    'app://station/%2e%2e/outside.txt',
    'app://station/assets/..%2f..%2foutside.txt',
    'app://station/assets%2fmain-abc.js',
    'app://station/.env',
    'app://station/assets/link.txt',
    'app://station//etc/passwd',
    'app://station/assets/',
    'app://station/%E0%A4%A',
    'app://other/index.html',
    'https://station/index.html',
    'file:///etc/passwd',
  ])('refuses %s', async (url) => {
    const response = await handler()({ url });
    expect(response.status).toBe(404);
  });

  it('before the renderer is built, index.html is the placeholder and nothing else exists', async () => {
    const none = appProtocolHandler({
      rendererDir: null,
      placeholderHtml: () => placeholderPage('Line <1>'),
    });
    const index = await none({ url: APP_ENTRY_URL });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const text = await index.text();
    expect(text).toContain('Line &#60;1&#62;');
    expect(text).toContain('npm run build:renderer');
    expect((await none({ url: 'app://station/assets/main.js' })).status).toBe(404);
    const missingDir = appProtocolHandler({ rendererDir: join(root, 'nope'), placeholderHtml: () => 'p' });
    expect(await (await missingDir({ url: APP_ENTRY_URL })).text()).toBe('p');
  });
});

describe('app arguments', () => {
  it('reads --config, --data and --kiosk (both spellings) and leaves Chromium’s switches alone', () => {
    expect(parseAppArgs(['/work/main', '--config', 'a.jsonc', '--data=/tmp/d', '--no-sandbox'], {})).toEqual({
      config: 'a.jsonc',
      data: '/tmp/d',
      kiosk: false,
    });
    expect(parseAppArgs(['--kiosk'], {})).toEqual({ kiosk: true });
    expect(parseAppArgs(['--config=x.json', '--kiosk=false'], { STATION_KIOSK: '1' })).toEqual({
      config: 'x.json',
      kiosk: false,
    });
    expect(parseAppArgs([], { STATION_KIOSK: '1' })).toEqual({ kiosk: true });
    expect(parseAppArgs(['--config'], {})).toEqual({ kiosk: false });
  });
});

describe('activity', () => {
  const slot = (name: string, state: Slot['state']): Slot => ({
    name,
    number: 1,
    source: 'virtual',
    port: null,
    present: state !== 'empty',
    state,
    since: '2026-12-01T08:00:00.000Z',
    scan: null,
    unit: null,
    result: null,
  });

  it('counts running slots (queued ones have not touched their board) out of every slot', () => {
    const station = new StationDouble();
    const snapshot = {
      ...station.snapshot(),
      slots: [slot('a', 'running'), slot('b', 'queued'), slot('c', 'passed'), slot('d', 'running')],
    };
    expect(activityOf(snapshot)).toEqual({ running: 2, total: 4 });
  });

  it('reports now and on every change, not on events that change nothing; stops when asked', () => {
    const station = new StationDouble();
    const seen: unknown[] = [];
    const stop = watchActivity(station, (activity) => seen.push(activity));
    expect(seen).toEqual([{ running: 0, total: 0 }]);
    station.publish();
    expect(seen).toHaveLength(1);
    const at = '2026-12-01T08:00:00.000Z';
    station.bus.publish({ kind: 'slot.changed', change: 'added', at, slotState: slot('slot-1', 'running') });
    expect(seen).toEqual([
      { running: 0, total: 0 },
      { running: 1, total: 1 },
    ]);
    stop();
    expect(station.subscribers).toBe(0);
  });
});
