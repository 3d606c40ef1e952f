/**
 * The installers' configuration (build/electron-builder.yml), checked here because `npm run dist` needs the
 * internet and cannot run in CI: valid for electron-builder (its own JSON schema), and right for this app (native
 * modules unpacked from the asar, the Linux and Windows targets, the .deb scripts, the udev rules). Also: the
 * committed udev rules are what build/gen-udev-rules.mjs makes of the production template.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const at = (...parts: string[]) => join(ROOT, ...parts);
const BUILDER_SCHEMA = at('node_modules', 'app-builder-lib', 'scheme.json');

interface BuilderConfig {
  appId?: string;
  productName?: string;
  files?: string[];
  asar?: boolean;
  asarUnpack?: string[];
  extraResources?: Array<{ from: string; to: string }>;
  linux?: { target?: string[]; executableName?: string };
  deb?: { depends?: string[]; afterInstall?: string; afterRemove?: string };
  win?: { target?: string[] };
}

interface UdevGenerator {
  udevRulesFor(config?: string): Promise<string>;
  renderUdevRules(filters: Array<{ vendorId: string; productId: string }>, source: string): string;
  UDEV_RULES_FILE: string;
}

interface AppBundle {
  APP_MAIN: string;
  APP_PRELOAD: string;
}

/** The build scripts are plain .mjs (run by node before anything is compiled): imported untyped, typed here. */
const importBuildScript = async <T>(name: string): Promise<T> =>
  (await import(/* @vite-ignore */ new URL(`../../../build/${name}`, import.meta.url).href)) as T;

const config = parse(readFileSync(at('build', 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const packageJson = JSON.parse(readFileSync(at('package.json'), 'utf8')) as {
  main?: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The names electron-builder replaces in the .deb scripts; any other dollar-brace name fails the build. */
const DEB_SCRIPT_MACROS = new Set(['executable', 'sanitizedProductName', 'productFilename']);

describe('electron-builder config', () => {
  it.skipIf(!existsSync(BUILDER_SCHEMA))("is valid for electron-builder's own JSON schema", () => {
    const schema = JSON.parse(readFileSync(BUILDER_SCHEMA, 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(config) ? [] : validate.errors).toEqual([]);
    // The schema does catch mistakes (it is not an accept-anything schema).
    expect(validate({ ...config, asarUnpackk: [] })).toBe(false);
  });

  it('names the product and its id', () => {
    expect(config.productName).toBe('Infuse Provisioning Station');
    expect(config.appId).toMatch(/^[a-z0-9]+(\.[a-z0-9-]+)+$/);
  });

  it('packs the app bundles, the operator app and the files the station reads at run time', () => {
    const files = config.files ?? [];
    for (const wanted of [
      'package.json',
      'dist/app/**',
      'renderer/dist/**',
      'station-config/**',
      'firmware-protocol/PROTOCOL.md',
      'node_modules/**',
    ]) {
      expect(files).toContain(wanted);
    }
  });

  it('package.json points Electron at the bundle that build/app-bundle.mjs writes', async () => {
    const bundle = await importBuildScript<AppBundle>('app-bundle.mjs');
    expect(packageJson.main).toBeDefined();
    expect(at(packageJson.main!)).toBe(bundle.APP_MAIN);
    expect(bundle.APP_PRELOAD).toBe(at('dist', 'app', 'preload.cjs'));
    // electron-builder refuses to package an app that lists electron as a runtime dependency.
    expect(packageJson.dependencies.electron).toBeUndefined();
    expect(packageJson.scripts.dist).toContain('electron-builder --config build/electron-builder.yml');
    expect(packageJson.scripts.start).toBe('node build/start.mjs');
  });

  it('unpacks the native modules from the asar (a .node file cannot load from inside one)', () => {
    expect(config.asar).not.toBe(false);
    const unpack = config.asarUnpack ?? [];
    expect(unpack).toContain('**/node_modules/better-sqlite3/**');
    expect(unpack).toContain('**/node_modules/@serialport/**');
    // Every production dependency with native code is one of those.
    const native = Object.keys(packageJson.dependencies).filter((name) =>
      existsSync(at('node_modules', name, 'binding.gyp')),
    );
    for (const name of native) expect(unpack).toContain(`**/node_modules/${name}/**`);
  });

  it('builds AppImage and deb on Linux, NSIS on Windows', () => {
    expect([...(config.linux?.target ?? [])].sort()).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
  });

  it('the .deb depends on what Electron needs and on udev, and its scripts exist and are executable', () => {
    expect(config.deb?.depends).toEqual(
      expect.arrayContaining(['libgtk-3-0', 'libnss3', 'libsecret-1-0', 'udev']),
    );
    for (const script of [config.deb?.afterInstall, config.deb?.afterRemove]) {
      expect(script).toBeDefined();
      const path = at(script!);
      expect(statSync(path).isFile()).toBe(true);
      expect(() => accessSync(path, constants.X_OK)).not.toThrow();
      const text = readFileSync(path, 'utf8');
      expect(text.startsWith('#!/bin/bash\n')).toBe(true);
      const macros = [...text.matchAll(/\$\{([a-zA-Z]+)\}/g)].map((m) => m[1]!);
      expect(macros.filter((name) => !DEB_SCRIPT_MACROS.has(name))).toEqual([]);
    }
  });

  it('the postinst installs the udev rules the package ships and reloads udev', () => {
    const postinst = readFileSync(at(config.deb!.afterInstall!), 'utf8');
    const shipped = (config.extraResources ?? []).find(
      (r) => r.from === 'build/linux/99-infuse-station.rules',
    );
    expect(shipped).toBeDefined();
    expect(existsSync(at(shipped!.from))).toBe(true);
    expect(postinst).toContain(`resources/${shipped!.to}`);
    expect(postinst).toContain('udevadm control --reload-rules && udevadm trigger');
    // What electron-builder's default after-install did, since ours replaces it.
    expect(postinst).toContain('chrome-sandbox');
    expect(postinst).toContain("update-alternatives --install '/usr/bin/${executable}'");
  });
});

describe('udev rules', () => {
  it('the committed build/linux/99-infuse-station.rules equals a fresh generation (npm run gen:udev-rules)', async () => {
    const udev = await importBuildScript<UdevGenerator>('gen-udev-rules.mjs');
    expect(readFileSync(udev.UDEV_RULES_FILE, 'utf8')).toBe(await udev.udevRulesFor());
  });

  it('gives the dialout group each adapter id once, and hides the same ids from ModemManager', async () => {
    const udev = await importBuildScript<UdevGenerator>('gen-udev-rules.mjs');
    const rules = udev.renderUdevRules(
      [
        { vendorId: '1915', productId: 'C00A' },
        { vendorId: '1915', productId: 'c00a' },
        { vendorId: '1366', productId: '1015' },
      ],
      'test',
    );
    const lines = rules.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual([
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="1366", ATTRS{idProduct}=="1015", MODE="0660", GROUP="dialout"',
      'ACTION=="add|change", ATTRS{idVendor}=="1366", ATTRS{idProduct}=="1015", ENV{ID_MM_DEVICE_IGNORE}="1"',
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="1915", ATTRS{idProduct}=="c00a", MODE="0660", GROUP="dialout"',
      'ACTION=="add|change", ATTRS{idVendor}=="1915", ATTRS{idProduct}=="c00a", ENV{ID_MM_DEVICE_IGNORE}="1"',
    ]);
  });

  it('refuses a config the station would refuse', async () => {
    const udev = await importBuildScript<UdevGenerator>('gen-udev-rules.mjs');
    await expect(udev.udevRulesFor(at('package.json'))).rejects.toThrow(/problems? in/);
  });
});
