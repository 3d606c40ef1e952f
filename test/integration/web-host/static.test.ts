/**
 * `/` and the operator app's files: the built folder served with the right types and caching, nothing outside it
 * (however the path is spelled), no listings; without a build, a placeholder page that escapes what it shows.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../../../electron/web-host';
import { rawRequest, type HttpAnswer } from '../../support/web-host-client';
import { StationDouble } from './station-double';

let temp: string;
let renderer: string;
let host: WebHost | null = null;

const SECRET = 'SECRET-OUTSIDE-THE-RENDERER';
const LONG_NAME = `index-${'a1b2c3d4'.repeat(20)}.js`;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'web-host-static-'));
  renderer = join(temp, 'renderer');
  await mkdir(join(renderer, 'assets', 'deep'), { recursive: true });
  await writeFile(
    join(renderer, 'index.html'),
    '<!doctype html><title>app</title><script src="/assets/app.js"></script>',
  );
  await writeFile(join(renderer, 'assets', 'app.js'), 'console.log("app")');
  await writeFile(join(renderer, 'assets', 'app.css'), 'body{}');
  await writeFile(join(renderer, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(renderer, 'assets', 'data.bin'), Buffer.from([0, 1, 2]));
  await writeFile(join(renderer, 'assets', 'deep', 'strings.json'), '{"hello":"world"}');
  await writeFile(join(renderer, 'assets', 'with space.txt'), 'spaced');
  await writeFile(join(renderer, 'assets', LONG_NAME), 'long');
  await writeFile(join(renderer, '.env'), SECRET);
  await writeFile(join(temp, 'package.json'), `{"name": "${SECRET}"}`);
  await writeFile(join(temp, 'secret.txt'), SECRET);
  await symlink(join(temp, 'secret.txt'), join(renderer, 'escape.txt'));
  await symlink(temp, join(renderer, 'up'));
});

afterEach(async () => {
  await host?.close();
  host = null;
});

afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

async function get(path: string, method = 'GET'): Promise<HttpAnswer> {
  return rawRequest(host!.port, { method, path, headers: { authorization: `Bearer ${host!.token}` } });
}

describe('with a built renderer', () => {
  it('serves index.html for / (no-store) and files by path with their content types', async () => {
    host = await startWebHost({ station: new StationDouble(), rendererDir: renderer });
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('<title>app</title>');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-store');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await get('/index.html')).headers['cache-control']).toBe('no-store');

    const expectations: [string, string, string][] = [
      ['/assets/app.js', 'text/javascript; charset=utf-8', 'console.log("app")'],
      ['/assets/app.css', 'text/css; charset=utf-8', 'body{}'],
      ['/assets/logo.svg', 'image/svg+xml', '<svg'],
      ['/assets/deep/strings.json', 'application/json; charset=utf-8', '"hello"'],
      ['/assets/data.bin', 'application/octet-stream', '\u0000'],
      ['/assets/with%20space.txt', 'text/plain; charset=utf-8', 'spaced'],
      [`/assets/${LONG_NAME}`, 'text/javascript; charset=utf-8', 'long'],
      ['/assets/app.js?v=2', 'text/javascript; charset=utf-8', 'console.log("app")'],
    ];
    for (const [path, type, content] of expectations) {
      const answer = await get(path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['content-type'], path).toBe(type);
      expect(answer.text, path).toContain(content);
      expect(answer.headers['cache-control'], path).toBe('no-cache');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
    const head = await get('/assets/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('lists no directory', async () => {
    host = await startWebHost({ station: new StationDouble(), rendererDir: renderer });
    for (const path of ['/assets', '/assets/', '/assets/deep/', '/assets//app.js']) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.text).not.toContain('app.js');
    }
  });

  it('refuses every way out of the folder, and hidden files', async () => {
    host = await startWebHost({ station: new StationDouble(), rendererDir: renderer });
    for (const path of [
      '/../package.json',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/package.json',
      '/%2E%2E/package.json',
      '/%2e%2e%2fpackage.json',
      '/..%2fpackage.json',
      '/..%2Fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%252e%252e/package.json',
      '/.%2e/package.json',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/escape.txt',
      '/up/secret.txt',
      '/up/package.json',
      '/.env',
      '/%2eenv',
      '//secret.txt',
      `/${temp}/secret.txt`,
      `/${encodeURIComponent(join(temp, 'secret.txt'))}`,
      '/index.html%00.js',
      '/%zz',
    ]) {
      const answer = await get(path);
      expect([400, 404], path).toContain(answer.status);
      expect(answer.text, path).not.toContain(SECRET);
    }
  });

  it('a folder without index.html counts as not built', async () => {
    host = await startWebHost({ station: new StationDouble(), rendererDir: join(renderer, 'assets') });
    const answer = await get('/');
    expect(answer.text).toContain('not built yet');
    expect((await get('/app.js')).status).toBe(404);
  });
});

describe('without a built renderer', () => {
  it('/ is a placeholder page that says how to use the API', async () => {
    host = await startWebHost({ station: new StationDouble(), rendererDir: null });
    const answer = await get('/');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.text).toContain('not built yet');
    expect(answer.text).toContain('POST /api/command');
    expect(answer.text).toContain('/api/events');
    expect(answer.text).toContain('session.login');
    expect(answer.text).not.toContain(host.token);
    expect((await get('/assets/app.js')).status).toBe(404);
  });

  it('escapes what it shows', async () => {
    const name = `<script>alert("x")</script> & 'friends'`;
    host = await startWebHost({ station: new StationDouble({ name }), rendererDir: join(temp, 'missing') });
    const answer = await get('/');
    expect(answer.text).not.toContain('<script>');
    expect(answer.text).toContain(
      '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;friends&#39;',
    );
  });
});
