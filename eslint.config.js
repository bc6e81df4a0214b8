// One lint config for the repository. Besides style, it enforces the layering: the runtime a folder
// needs decides what it may import (see README, "Architecture"). test/lint/layering.test.ts proves
// that each rule fires on a deliberate violation.
import js from '@eslint/js'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import reactHooks from 'eslint-plugin-react-hooks'
import { builtinModules } from 'node:module'
import tseslint from 'typescript-eslint'

const nodeBuiltins = [
  ...builtinModules.filter((m) => !m.startsWith('_')),
  ...builtinModules.map((m) => `node:${m}`),
]

/** no-restricted-imports paths that ban every Node built-in module, with one message. */
const noNodeModules = (message) => nodeBuiltins.map((name) => ({ name, message }))

// Browser globals that would tie Node code to a DOM. (Worker-safe globals like fetch and URL are fine.)
const domGlobals = [
  'window',
  'document',
  'navigator',
  'localStorage',
  'sessionStorage',
  'HTMLElement',
  'location',
].map((name) => ({ name, message: 'core/ runs under plain Node: no DOM APIs.' }))

// The folders of core/, lowest layer first. A folder may import its own files and the folders of
// earlier layers; the folders of one layer are independent of each other (neither imports the
// other). Derived from the imports as they are: engine and wire build only on the contract; data,
// aggregation, the ledger and the swarm on the engine or the wire; the host on all of those; the
// contributor node on the host (verification, round timing); the daemon's server on the node; the
// CLI on everything. core/api/ has its own, stricter zone below (the pure contract).
export const coreLayers = [
  ['util', 'types'],
  ['api'],
  ['engine', 'wire'],
  ['data', 'aggregate', 'ledger', 'net'],
  ['host'],
  ['node'],
  ['server', 'demo'],
  ['cli'],
]

const layerOrder = coreLayers
  .map((layer) => (layer.length > 1 ? `{${layer.join(', ')}}` : layer[0]))
  .join(' < ')

/** no-restricted-paths zones: each core/ folder may not import a later layer or a peer. */
const coreLayerZones = coreLayers.flatMap((layer, i) =>
  layer
    .filter((folder) => folder !== 'api')
    .map((folder) => ({
      target: `./core/${folder}`,
      from: [...layer.filter((peer) => peer !== folder), ...coreLayers.slice(i + 1).flat()].map(
        (higher) => `./core/${higher}`,
      ),
      message: `core/${folder}/ may import only earlier layers of core/ (${layerOrder}; coreLayers in eslint.config.js).`,
    }))
    .filter((zone) => zone.from.length > 0),
)

// The JavaScript globals that are constructors or namespaces. Declaring one of these names (say a
// class AggregateError) shadows the global in that file: `instanceof AggregateError` there no longer
// means the language's. Stated here rather than taken from a package so the lint is the same on every
// Node version. (ESLint's no-redeclare builtinGlobals does not see module scope, and no-shadow with
// builtinGlobals also reports every ordinary nested shadow.)
const languageGlobals = [
  'AggregateError',
  'Array',
  'ArrayBuffer',
  'Atomics',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Boolean',
  'DataView',
  'Date',
  'Error',
  'EvalError',
  'FinalizationRegistry',
  'Float32Array',
  'Float64Array',
  'Function',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'Intl',
  'JSON',
  'Map',
  'Math',
  'Number',
  'Object',
  'Promise',
  'Proxy',
  'RangeError',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Set',
  'SharedArrayBuffer',
  'String',
  'Symbol',
  'SyntaxError',
  'TypeError',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'URIError',
  'WeakMap',
  'WeakRef',
  'WeakSet',
]
const globalName = `/^(${languageGlobals.join('|')})$/`
const noShadowedGlobals = [
  {
    selector: `:matches(ClassDeclaration, FunctionDeclaration, VariableDeclarator, TSEnumDeclaration) > Identifier.id[name=${globalName}]`,
    message: 'This name shadows a JavaScript global; pick a name that says what it is.',
  },
  {
    selector: `:matches(ImportSpecifier, ImportDefaultSpecifier, ImportNamespaceSpecifier) > Identifier.local[name=${globalName}]`,
    message: 'This import shadows a JavaScript global; rename it (import { X as Y }).',
  },
]

const electronOnlyInShell = {
  name: 'electron',
  message: 'Only electron/ may import Electron; core/ must run under plain Node.',
}

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'out/', 'release/', 'test-results/', 'test/lint/fixtures/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x reads only .js files when it follows an import (no-cycle would see
      // no edges); the resolver is the one below, not the preset's.
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: [
            'core/tsconfig.json',
            'renderer/tsconfig.json',
            'electron/tsconfig.json',
            'test/tsconfig.json',
          ],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-shadow-restricted-names': 'error',
      'no-restricted-syntax': ['error', ...noShadowedGlobals],
      'no-console': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './renderer',
              from: './core',
              except: ['./api'],
              message: 'renderer/ may import only the API contract (core/api/) from core/.',
            },
            {
              target: './core/api',
              from: './core',
              except: ['./api'],
              message: 'core/api/ is the pure contract: it may not depend on the rest of core/.',
            },
            ...coreLayerZones,
            {
              target: './electron',
              from: './renderer',
              message: 'electron/ may not reach into renderer internals; it loads the built UI.',
            },
            {
              target: './core',
              from: ['./electron', './renderer'],
              message: 'core/ is the engine: it never depends on the shell or the UI.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['core/**/*.{ts,mjs,js}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOnlyInShell],
          patterns: [{ group: ['electron/*'], message: electronOnlyInShell.message }],
        },
      ],
      'no-restricted-globals': ['error', ...domGlobals],
    },
  },
  {
    // No import cycles inside core/ (type-only imports do not count: they vanish at run time).
    // Costs about a second over core/ on our machines.
    files: ['core/**/*.{ts,mjs,js}'],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The contract is shared with the browser: neither Node nor DOM.
    files: ['core/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            electronOnlyInShell,
            ...noNodeModules('core/api/ is shared with the browser: no Node modules.'),
          ],
        },
      ],
    },
  },
  {
    // The engine's compute code also runs in a browser window (WebGPU host): no Node modules there.
    files: [
      'core/engine/{model,optim,compress,browser}/**/*.ts',
      'core/engine/{inner-loop,batch,tf}.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            electronOnlyInShell,
            ...noNodeModules('engine compute code runs in a browser window too: no Node modules.'),
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message:
                'The renderer talks to the shell only through window.tandem (the preload bridge).',
            },
            ...noNodeModules('renderer/ runs in a browser too: no Node modules.'),
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'renderer/ runs in a browser too: no process.' },
        { name: 'require', message: 'renderer/ is ESM in a browser: no require.' },
        { name: 'Buffer', message: 'renderer/ runs in a browser too: use Uint8Array.' },
      ],
    },
  },
  {
    // Command-line output, test reporters and CI checks write to the terminal on purpose.
    files: ['core/cli/**', 'test/**', '.ci/**', '*.config.{js,ts}', 'build/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        fetch: 'readonly',
      },
    },
  },
)
