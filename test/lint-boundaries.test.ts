/**
 * The layer boundaries of eslint.config.js (the `wsscope/boundaries` rule and its LAYERS table),
 * checked the way test/security.test.ts checks the HTML-sink bans: the repository's own config
 * through ESLint's Node API. Each layer is fed imports it must reject, from files at several
 * depths of its folder, and imports it must accept; and every source file in the repository is
 * shown to fall in the layer its folder says, so no folder sits outside the rules unnoticed.
 *
 * Snippets are linted as if they were the named file (`lintText` with a `filePath`); the files
 * need not exist.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RULE = 'wsscope/boundaries';
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: join(ROOT, 'eslint.config.js') });

/** The layer the repository layout puts `file` in (docs/architecture.md), or null. */
function layerOfPath(file: string): string | null {
  const testCode = /\.test\.ts$|(^|\/)testing(\.ts$|\/)/.test(file);
  if (file.startsWith('renderer/')) return testCode ? 'renderer tests' : 'renderer';
  if (testCode || !file.includes('/') || /^(bin|scripts|test)\//.test(file)) return 'node tests and tools';
  if (file.startsWith('shared/')) return 'shared';
  if (/^engine\/capture\/live-[^/]+\.ts$/.test(file)) return 'engine live capture';
  if (file.startsWith('engine/serve/')) return 'engine serve';
  if (file === 'engine/h2/hpack.ts') return 'engine hpack';
  if (file.startsWith('engine/app/')) return 'engine subprotocols';
  if (file.startsWith('engine/')) return 'engine';
  if (file.startsWith('electron/main/')) return 'electron main';
  if (file.startsWith('electron/preload/')) return 'electron preload';
  return null;
}

/** The layer eslint.config.js gives `file`: the option of its boundary rule, or null without one. */
async function configuredLayer(file: string): Promise<string | null> {
  const config = (await eslint.calculateConfigForFile(join(ROOT, file))) as { rules?: Record<string, unknown[]> } | undefined;
  const entry = config?.rules?.[RULE];
  if (!entry || (entry[0] !== 2 && entry[0] !== 'error')) return null;
  return (entry[1] as { layer: string }).layer;
}

/** `code` linted as `file`: the boundary rule's messages as [line, messageId, message]. */
async function boundaryMessages(file: string, code: string): Promise<Array<[number, string | undefined, string]>> {
  const text = file.endsWith('.vue') ? `<script setup lang="ts">\n${code}\n</script>\n` : code;
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, file) });
  // a snippet that does not parse would pass any rule: fail on it instead
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  const offset = file.endsWith('.vue') ? 1 : 0;
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => [m.line - offset, m.messageId, m.message]);
}

/** file, one import that breaks its layer's boundary, the message kind, the resolved target it names */
const BREACHES: Array<[string, string, 'forbidden' | 'testCode' | 'computed', string]> = [
  ['shared/api.ts', "import { readFileSync } from 'node:fs';", 'forbidden', 'node:fs'],
  ['shared/a/b/c.ts', "import type { PacketRecord } from '../../../engine/types';", 'forbidden', 'engine/types'],
  ['shared/events.ts', "import { ref } from 'vue';", 'forbidden', 'vue'],
  ['shared/labels.ts', "export * from '../renderer/src/lib/format';", 'forbidden', 'renderer/src/lib/format'],

  ['renderer/src/components/x/y.vue', "import { analyzeFile } from '../../../../engine/pipeline';", 'forbidden', 'engine/pipeline'],
  ['renderer/src/main.ts', "import type { PacketRecord } from '../../engine/types';", 'forbidden', 'engine/types'],
  ['renderer/src/stores/a/b/c/d.ts', "const read = await import('../../../../../../engine/cli/read');", 'forbidden', 'engine/cli/read'],
  ['renderer/src/lib/x.ts', "type Unmask = typeof import('../../../engine/ws/unmask');", 'forbidden', 'engine/ws/unmask'],
  ['renderer/src/lib/x.ts', "import { readFileSync } from 'fs';", 'forbidden', 'fs'],
  ['renderer/src/lib/x.ts', "import { ipcRenderer } from 'electron';", 'forbidden', 'electron'],
  ['renderer/src/App.vue', "import { buildApi } from '../../electron/preload/api';", 'forbidden', 'electron/preload/api'],
  ['renderer/src/components/Foo.vue', "import { createFakeApi } from '../testing/fake-api';", 'testCode', 'renderer/src/testing/fake-api'],

  ['engine/ws/x.ts', "import { frame } from '../../test/kit/frames';", 'testCode', 'test/kit/frames'],
  ['engine/ws/x.ts', "import { buildFrame } from './testing';", 'testCode', 'engine/ws/testing'],
  ['engine/x.ts', "import { helper } from './pipeline.test';", 'testCode', 'engine/pipeline.test'],
  ['engine/store/a/b.ts', "import { concat } from '../../../scripts/lib/fuzz-build';", 'forbidden', 'scripts/lib/fuzz-build'],
  ['engine/service/x.ts', "import { app } from 'electron';", 'forbidden', 'electron'],
  ['engine/service/x.ts', "import { createApp } from '../../electron/main/app';", 'forbidden', 'electron/main/app'],
  ['engine/tcp/x.ts', "import { useSession } from '../../renderer/src/stores/session';", 'forbidden', 'renderer/src/stores/session'],
  ['engine/cli/x.ts', "import { main } from '../../bin/wsscope';", 'forbidden', 'bin/wsscope'],
  ['engine/capture/interfaces.ts', "import cap from 'cap';", 'forbidden', 'cap'],
  ['engine/capture/x.ts', "import { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\nreq('cap');", 'forbidden', 'cap'],
  ['engine/net/x.ts', "import { WebSocketServer } from 'ws';", 'forbidden', 'ws'],
  ['engine/ws/x.ts', "import { parser } from 'mqtt-packet';", 'forbidden', 'mqtt-packet'],
  ['engine/app/x.ts', "import { Server } from 'socket.io';", 'forbidden', 'socket.io'],
  ['engine/service/x.ts', 'const name = process.env.MODULE as string;\nawait import(name);', 'computed', ''],
  ['engine/serve/x.ts', "import { frame } from '../../test/kit/frames';", 'testCode', 'test/kit/frames'],

  ['electron/main/x.ts', "import { analyzeFile } from '../../engine/pipeline';", 'forbidden', 'engine/pipeline'],
  ['electron/main/x.ts', "import { EngineService } from '../../engine/service/engine-service';", 'forbidden', 'engine/service/engine-service'],
  ['electron/main/x.ts', "import { api } from '../../renderer/src/api/index';", 'forbidden', 'renderer/src/api/index'],
  ['electron/main/x.ts', "import { frame } from '../../test/kit/frames';", 'testCode', 'test/kit/frames'],
  ['electron/main/x.ts', "import { WebSocket } from 'ws';", 'forbidden', 'ws'],
  ['electron/preload/x.ts', "import { readFileSync } from 'node:fs';", 'forbidden', 'node:fs'],
  ['electron/preload/x.ts', "import { spawnEngine } from '../../engine/service/client';", 'forbidden', 'engine/service/client'],
  ['electron/preload/x.ts', "import { createApp } from '../main/app';", 'forbidden', 'electron/main/app'],

  ['renderer/src/components/x/y.test.ts', "import { analyzeFile } from '../../../../engine/pipeline';", 'forbidden', 'engine/pipeline'],
  ['renderer/src/x.test.ts', "import { readFileSync } from 'node:fs';", 'forbidden', 'node:fs'],
  ['test/x.test.ts', "import App from '../renderer/src/App.vue';", 'forbidden', 'renderer/src/App.vue'],
  ['scripts/lib/x.ts', "import { useSession } from '../../renderer/src/stores/session';", 'forbidden', 'renderer/src/stores/session'],
];

/** file, imports its layer allows */
const ALLOWED: Array<[string, string]> = [
  ['shared/a/b.ts', "import type { EngineEvent } from '../../shared/events';\nimport { FINDINGS } from '../findings';"],
  [
    'renderer/src/components/x/y.vue',
    "import { ref } from 'vue';\nimport { defineStore } from 'pinia';\nimport type { Batch } from '../../../../shared/api';\nimport Foo from '../Foo.vue';",
  ],
  ['renderer/src/testing/x.ts', "import { createFakeApi } from './fake-api';\nimport { mount } from '@vue/test-utils';"],
  ['renderer/src/api/x.test.ts', "import { WebSocketServer } from 'ws';\nimport { expect } from 'vitest';"],
  ['engine/ws/x.ts', "import { inflateRawSync } from 'node:zlib';\nimport { createHash } from 'crypto';\nimport type { Result } from '../../shared/api';\nimport { seqDiff } from '../tcp/seq';"],
  ['engine/ws/x.test.ts', "import { frame } from '../../test/kit/frames';\nimport { concat } from '../../scripts/lib/fuzz-build';\nimport fc from 'fast-check';"],
  ['engine/capture/live-x.ts', "import { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\nreq('cap');"],
  ['engine/serve/x.ts', "import { WebSocketServer } from 'ws';\nimport { build } from 'vite';\nimport vue from '@vitejs/plugin-vue';"],
  ['engine/app/x.ts', "import { parser } from 'mqtt-packet';\nimport type { MessageEvent } from '../../shared/events';\nimport { decodeUtf8Lossy } from '../ws/utf8';"],
  [
    'electron/main/x.ts',
    "import { app } from 'electron';\nimport { join } from 'node:path';\nimport { spawnEngine } from '../../engine/service/client';\nimport type { ToHost } from '../../engine/service/protocol';\nimport { checkArity } from '../../engine/service/validate';\nimport { CALLS } from '../../shared/api';",
  ],
  ['electron/preload/x.ts', "import { contextBridge } from 'electron';\nimport { callChannel } from '../../shared/api';\nimport { buildApi } from './api';"],
  ['test/kit/x.ts', "import { analyzeFile } from '../../engine/pipeline';\nimport { buildApi } from '../../electron/preload/api';\nimport { WebSocket } from 'ws';"],
];

describe('eslint layer boundaries (wsscope/boundaries)', () => {
  it.each(BREACHES)('%s: rejects %s', async (file, code, messageId, target) => {
    const line = code.split('\n').length;
    const messages = await boundaryMessages(file, code);
    expect(messages.map(([l, id]) => [l, id])).toEqual([[line, messageId]]);
    if (target) expect(messages[0][2]).toContain(`'${target}'`);
  });

  it.each(ALLOWED)('%s: accepts imports of its own layer', async (file, code) => {
    // the file is in the layer the layout says, so the rule ran on it and found nothing
    expect(await configuredLayer(file)).toBe(layerOfPath(file));
    expect(await boundaryMessages(file, code)).toEqual([]);
  });

  it('covers every source file in the repository with the layer of its folder', async () => {
    const files: string[] = [];
    const skipped: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        const rel = relative(ROOT, path).split(sep).join('/');
        if (e.isDirectory()) {
          if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
          // a folder eslint ignores as a whole (build output): say which, below
          if (await eslint.isPathIgnored(join(path, 'probe.ts'))) skipped.push(rel);
          else await walk(path);
        } else if (/\.(ts|vue|[cm]?js)$/.test(e.name)) {
          files.push(rel);
        }
      }
    };
    await walk(ROOT);
    // only build and tool output is ignored wholesale
    expect(skipped.filter((d) => !/^(out|dist|bench-data|fuzz-out)$/.test(d))).toEqual([]);
    expect(files.length).toBeGreaterThan(150);
    const wrong: string[] = [];
    for (const f of files) {
      const want = layerOfPath(f);
      const got = (await eslint.isPathIgnored(join(ROOT, f))) ? 'ignored' : await configuredLayer(f);
      if (want === null || got !== want) wrong.push(`${f}: layout says ${want ?? 'no layer'}, eslint.config.js gives ${got ?? 'no boundary rule'}`);
    }
    expect(wrong).toEqual([]);
    // every layer has files, so none of the globs above is a typo
    const used = new Set(files.map(layerOfPath));
    expect([...used].sort()).toEqual(['electron main', 'electron preload', 'engine', 'engine hpack', 'engine live capture', 'engine serve', 'engine subprotocols', 'node tests and tools', 'renderer', 'renderer tests', 'shared']);
  });
});
