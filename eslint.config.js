// Lint rules that hold the architecture: the engine never imports electron (nor cap, outside
// the live capture adapter), shared/ imports nothing from Node, and no payload ever becomes HTML.
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';

const noHtmlSinks = [
  { selector: "AssignmentExpression[left.property.name=/^(innerHTML|outerHTML)$/]", message: 'Captured payloads are hostile: never assign HTML.' },
  { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: 'Captured payloads are hostile: never insert HTML.' },
  { selector: "CallExpression[callee.object.name='document'][callee.property.name=/^(write|writeln)$/]", message: 'document.write is banned.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'bench-data/**', 'fuzz-out/**'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
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
  {
    files: ['engine/**/*.ts'],
    ignores: ['engine/capture/live-*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: ['electron', 'cap'], patterns: ['electron/*'] }],
    },
  },
  {
    files: ['shared/**/*.ts', 'renderer/**/*.{ts,vue}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: ['node:*', 'electron', 'cap', '../engine/*', '../../engine/*'] }],
    },
  },
);
