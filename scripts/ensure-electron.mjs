#!/usr/bin/env node
// `npm ci` does not run Electron's postinstall (package.json "allowScripts": electron false),
// so installing never needs Electron's download host. `npm start` / `npm run dev` fetch the
// binary here, once, through Electron's own install script.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const dir = dirname(require.resolve('electron/package.json'));
const pathTxt = join(dir, 'path.txt');
if (existsSync(pathTxt) && existsSync(join(dir, 'dist', readFileSync(pathTxt, 'utf8')))) process.exit(0);
console.log('wsscope: downloading the Electron binary (first start only)...');
const r = spawnSync(process.execPath, [join(dir, 'install.js')], { stdio: 'inherit', cwd: dir });
if (r.status !== 0) {
  console.error('wsscope: could not download Electron. Without a display, use the browser shell: npm run wsscope -- serve FILE');
  process.exit(r.status ?? 1);
}
