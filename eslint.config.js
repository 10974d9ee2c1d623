// Lint rules that hold the architecture (docs/architecture.md): each layer imports only the
// folders and packages LAYERS allows it (the `wsscope/boundaries` rule below), and no payload
// ever becomes HTML. test/lint-boundaries.test.ts feeds every boundary a violating import and
// checks that every source file of the repository falls in a layer.
import { isBuiltin } from 'node:module';
import { dirname, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';

const ROOT = dirname(fileURLToPath(import.meta.url));

const noHtmlSinks = [
  { selector: "AssignmentExpression[left.property.name=/^(innerHTML|outerHTML)$/]", message: 'Captured payloads are hostile: never assign HTML.' },
  { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: 'Captured payloads are hostile: never insert HTML.' },
  { selector: "CallExpression[callee.object.name='document'][callee.property.name=/^(write|writeln)$/]", message: 'document.write is banned.' },
];

/** In `packages`: Node's built-in modules, with or without the `node:` prefix. */
const NODE = 'node:*';
/** In `packages`: any package. */
const ANY = '*';
/** Test code by its name, wherever it lives: production layers never import it. */
const TEST_CODE = ['**/*.test.ts', '**/testing.ts', '**/testing/**'];
const TEST_MODULE = /(^|\/)(test|testing)\/|(^|\/)testing(\.ts)?$|\.test(\.ts)?$/;

/**
 * What each layer may import. `paths` are repository folders (ending in '/') or single modules
 * (no extension), matched against the import resolved from the importing file, so the depth of
 * either file does not matter; `packages` are npm package names. A file belongs to the last
 * layer whose `files` match it (eslint's flat-config order), so narrower entries and test code
 * come after the folder they sit in. Production layers (`test` unset) never import test code.
 */
const LAYERS = [
  // re2js: pure JavaScript RE2, the linear-time regex engine both sides run (shared/regex.ts)
  { name: 'shared', files: ['shared/**/*.ts'], paths: ['shared/'], packages: ['re2js'] },
  { name: 'engine', files: ['engine/**/*.ts'], paths: ['engine/', 'shared/'], packages: [NODE] },
  // `cap` is a native addon that may be missing: only the live capture adapter loads it, lazily
  { name: 'engine live capture', files: ['engine/capture/live-*.ts'], paths: ['engine/', 'shared/'], packages: [NODE, 'cap'] },
  // HPACK (RFC 7541) is hpack.js's, behind one module (README "Libraries and why")
  { name: 'engine hpack', files: ['engine/h2/hpack.ts'], paths: ['engine/', 'shared/'], packages: [NODE, 'hpack.js'] },
  // the browser shell: a WebSocket server, and vite to build the renderer it serves
  { name: 'engine serve', files: ['engine/serve/**/*.ts'], paths: ['engine/', 'shared/'], packages: [NODE, 'ws', 'vite', '@vitejs/plugin-vue'] },
  // subprotocol decoders: MQTT is parsed by mqtt-packet, the parser mqtt.js and aedes use;
  // binary payloads as trees: MessagePack by @msgpack/msgpack, CBOR by cbor-x (engine/app/binary-tree.ts)
  { name: 'engine subprotocols', files: ['engine/app/**/*.ts'], paths: ['engine/', 'shared/'], packages: [NODE, 'mqtt-packet', '@msgpack/msgpack', 'cbor-x'] },
  // wiring only: it starts the engine process through the service client and checks IPC
  // arguments with the service's own validators before forwarding them
  {
    name: 'electron main',
    files: ['electron/main/**/*.ts'],
    paths: ['electron/main/', 'shared/', 'engine/service/client', 'engine/service/protocol', 'engine/service/validate'],
    packages: [NODE, 'electron'],
  },
  // a sandboxed preload only bridges the contract
  { name: 'electron preload', files: ['electron/preload/**/*.ts'], paths: ['electron/preload/', 'shared/'], packages: ['electron'] },
  { name: 'renderer', files: ['renderer/**/*.{ts,vue}'], paths: ['renderer/', 'shared/'], packages: ['vue', 'pinia'] },
  // they run in Node: the browser-shell client is tested against a real `ws` peer
  {
    name: 'renderer tests',
    files: TEST_CODE.map((g) => `renderer/${g}`),
    paths: ['renderer/', 'shared/'],
    packages: ['vue', 'pinia', 'vitest', '@vue/test-utils', 'ws'],
    test: true,
  },
  // Node-side tests, scripts, the CLI launcher and build configs: anything but the renderer,
  // which only the browser runs (vite builds it; nothing in Node imports it)
  {
    name: 'node tests and tools',
    files: ['*.{ts,js,mjs,cjs}', '{bin,scripts,test}/**/*.{ts,js,mjs,cjs}', ...TEST_CODE.flatMap((g) => ['engine', 'electron', 'shared'].map((d) => `${d}/${g}`))],
    paths: ['bin/', 'electron/', 'engine/', 'scripts/', 'shared/', 'test/'],
    packages: [ANY],
    test: true,
  },
];

/** Why `source`, imported from repository file `file`, breaks `layer`; null when it is allowed. */
function breach(layer, file, source) {
  if (source.startsWith('.') || source.startsWith('/')) {
    const target = source.startsWith('/') ? relative(ROOT, source).split(sep).join('/') : posix.join(posix.dirname(file), source);
    if (!layer.test && TEST_MODULE.test(target)) return { messageId: 'testCode', target };
    const allowed = layer.paths.some((p) => (p.endsWith('/') ? `${target}/`.startsWith(p) : target.replace(/\.(ts|js|mjs)$/, '') === p));
    return allowed ? null : { messageId: 'forbidden', target };
  }
  const name = source.split('/').slice(0, source.startsWith('@') ? 2 : 1).join('/');
  const allowed = layer.packages.some((p) => p === ANY || p === name || (p === NODE && isBuiltin(source)));
  return allowed ? null : { messageId: 'forbidden', target: name };
}

/**
 * Checks every way a module names another: import/export ... from, import(),
 * `import x = require()`, `typeof import()` types, require() and functions made by
 * createRequire (how live-cap.ts loads `cap`). A name held in a const is followed; any other
 * computed name is an error. The same idea as eslint-plugin-import's no-restricted-paths,
 * without the dependency.
 */
const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'A layer imports only the repository folders and packages LAYERS in eslint.config.js allows it.' },
    schema: [{ type: 'object', properties: { layer: { enum: LAYERS.map((l) => l.name) } }, required: ['layer'], additionalProperties: false }],
    messages: {
      forbidden: "{{layer}} may not import '{{target}}' (from '{{source}}'): it may import only {{allowed}} (LAYERS in eslint.config.js).",
      testCode: "{{layer}} is production code and may not import test code '{{target}}' (from '{{source}}').",
      computed: '{{layer}}: a module name computed at run time cannot be checked against the layer boundaries; import a string literal.',
    },
  },
  create(context) {
    const layer = LAYERS.find((l) => l.name === context.options[0].layer);
    const file = relative(ROOT, context.filename).split(sep).join('/');
    const allowed = [...layer.paths, ...layer.packages.map((p) => (p === NODE ? 'Node built-ins' : p === ANY ? 'any package' : p))].join(', ');
    const requireFns = new Set(['require']);
    // a string literal, or a const initialised with one (`const WS = 'ws'; import(WS)`)
    const nameOf = (node) => {
      if (node.type === 'Literal') return node.value;
      if (node.type === 'TemplateLiteral') return node.expressions.length === 0 ? node.quasis[0].value.cooked : null;
      if (node.type !== 'Identifier') return null;
      for (let scope = context.sourceCode.getScope(node); scope; scope = scope.upper) {
        const v = scope.set.get(node.name);
        if (!v) continue;
        const def = v.defs.length === 1 ? v.defs[0] : null;
        const init = def?.type === 'Variable' && def.parent.kind === 'const' ? def.node.init : null;
        return init && init.type !== 'Identifier' ? nameOf(init) : null;
      }
      return null;
    };
    const check = (node) => {
      const source = nameOf(node);
      if (typeof source !== 'string') {
        if (!layer.packages.includes(ANY)) context.report({ node, messageId: 'computed', data: { layer: layer.name } });
        return;
      }
      const b = breach(layer, file, source);
      if (b) context.report({ node, messageId: b.messageId, data: { layer: layer.name, target: b.target, source, allowed } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => n.source && check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      TSImportEqualsDeclaration: (n) => n.moduleReference.type === 'TSExternalModuleReference' && check(n.moduleReference.expression),
      TSImportType: (n) => check(n.source),
      VariableDeclarator: (n) => {
        if (n.id.type === 'Identifier' && n.init?.type === 'CallExpression' && n.init.callee.type === 'Identifier' && n.init.callee.name === 'createRequire') requireFns.add(n.id.name);
      },
      CallExpression: (n) => n.callee.type === 'Identifier' && requireFns.has(n.callee.name) && n.arguments.length > 0 && check(n.arguments[0]),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'bench-data/**', 'fuzz-out/**'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    plugins: { wsscope: { rules: { boundaries } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', ...noHtmlSinks],
      'vue/no-v-html': 'error',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  // CommonJS files (scripts/wsscope.cjs) import with require(), which the boundaries rule checks too
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  ...LAYERS.map((l) => ({ files: l.files, rules: { 'wsscope/boundaries': ['error', { layer: l.name }] } })),
);
