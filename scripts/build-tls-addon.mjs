#!/usr/bin/env node
/**
 * Builds the TLS AEAD addon (native/tls/wsscope_tls.c -> native/tls/build/Release/wsscope_tls.node)
 * with node-gyp; package.json's `install` script, so `npm ci` and `npm install` run it.
 *
 *   node scripts/build-tls-addon.mjs            # build; a failure is reported and is not an error
 *   node scripts/build-tls-addon.mjs --check    # CI: exit 1 unless the built addon loads and has an OpenSSL 3
 *
 * The addon only makes TLS decryption faster (engine/tls/aead.ts falls back to node:crypto
 * with the same results), so a machine without a C compiler, make or python still installs:
 * the build's output is printed only when it fails, with one line saying what that costs.
 * WSSCOPE_TLS_NATIVE=0 skips the build.
 *
 * Offline: node-gyp downloads Node's headers unless it is given a directory holding them;
 * when npm has none configured (npm_config_nodedir) and the running Node was installed with
 * its headers (PREFIX/include/node, as distribution and nodesource packages do), that PREFIX
 * is passed, so no network is needed. node-gyp itself comes with npm (npm_config_node_gyp in
 * a lifecycle script, else beside the npm of this Node).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = join(import.meta.dirname, '..', 'native', 'tls');
const addon = join(here, 'build', 'Release', 'wsscope_tls.node');

if (process.argv.includes('--check')) {
  try {
    const m = createRequire(import.meta.url)(addon);
    if (!m.openssl || m.openssl === 'none') throw new Error('it found no OpenSSL 3');
    m.aeadNew(0, new Uint8Array(16));
    console.log(`wsscope: the TLS addon loads (${m.openssl.split(':')[0]})`);
  } catch (e) {
    console.error(`wsscope: the TLS addon is not usable: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  process.exit(0);
}

if (process.env.WSSCOPE_TLS_NATIVE === '0') process.exit(0);

/** node-gyp's entry point: npm's, when npm runs this script, else the one beside this Node's npm */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

const gyp = nodeGyp();
const args = ['rebuild'];
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = gyp === undefined ? null : spawnSync(process.execPath, [gyp, ...args], { cwd: here, encoding: 'utf8' });
if (r !== null && r.status === 0 && existsSync(addon)) {
  console.log('wsscope: built the TLS addon (native/tls): wss:// decryption uses OpenSSL directly');
} else {
  if (r !== null) process.stdout.write(`${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
  console.log(
    `wsscope: the TLS addon was not built (${gyp === undefined ? 'node-gyp not found' : `node-gyp exited ${r?.status}`}); ` +
      'wss:// decryption uses node:crypto instead: the same results, several times slower. See native/tls/README.md.',
  );
}
