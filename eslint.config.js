// Lint: mainly the import directions of DESIGN.md, checked by a machine.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'path', 'os', 'child_process', 'worker_threads', 'url', 'crypto', 'stream', 'util', 'process', 'http', 'net', 'zlib', 'events', 'module', 'readline', 'buffer', 'assert', 'perf_hooks', 'v8', 'vm', 'tty', 'dgram', 'dns', 'cluster', 'https', 'timers'];
const nodeBuiltinPatterns = [...NODE_BUILTINS, ...NODE_BUILTINS.map((m) => `node:${m}`), 'node:*'];

const UI = ['react', 'react-dom', 'react-dom/*', '@xyflow/*', 'zustand', 'zustand/*', 'electron', 'electron/*'];

/** no-restricted-imports for a folder: forbidden packages and forbidden folders (as path groups). */
function restrict(packages, folders, why) {
  return {
    'no-restricted-imports': ['error', {
      patterns: [
        ...(packages.length ? [{ group: packages, message: why }] : []),
        // relative paths reach a folder from one to three levels down (engine/<part>/file.ts, deeper tests)
        ...folders.map((f) => ({ group: ['../', '../../', '../../../'].flatMap((up) => [`${up}${f}`, `${up}${f}/**`, `${up}engine/${f}`, `${up}engine/${f}/**`]), message: why })),
      ],
    }],
  };
}

const browserSafeEngine = 'engine/{core,layers,document,tracecode,onnx,weights,autodiff}';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-results/**', '.scratch/**', '.brief/**', '**/*.d.ts'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: 'latest', sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // engine/: no DOM, React, Electron or zustand; never the app folders
    files: ['engine/**/*.ts'],
    // tests may load the kernels (which register themselves with the engine)
    ignores: ['**/*.test.ts'],
    rules: restrict(UI, ['renderer', 'electron', 'cli', 'kernels', 'e2e', 'bench'], 'engine/ is pure TypeScript: no UI, no Electron, no app folders (DESIGN.md)'),
  },
  {
    // the browser-safe engine: also no Node built-ins and no onnxruntime
    files: [`${browserSafeEngine}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: restrict([...UI, ...nodeBuiltinPatterns, 'onnxruntime-node', 'onnxruntime-*'], ['renderer', 'electron', 'cli', 'kernels', 'e2e', 'bench', 'runtime', 'train', 'host'], 'engine/{core,layers,document,tracecode,onnx,weights,autodiff} run in the browser: no Node built-ins, no onnxruntime, no Node-only engine parts (DESIGN.md)'),
  },
  {
    // lower layers of the engine do not reach up
    files: ['engine/core/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([...UI, ...nodeBuiltinPatterns], ['layers', 'document', 'tracecode', 'onnx', 'runtime', 'train', 'host', 'autodiff', 'renderer', 'electron', 'cli'], 'engine/core is the bottom layer: it imports nothing else of the engine'),
  },
  {
    files: ['engine/layers/**/*.ts'],
    // the catalog table (cases/) is test data that builds documents
    ignores: ['**/*.test.ts', 'engine/layers/cases/**'],
    rules: restrict([...UI, ...nodeBuiltinPatterns], ['document', 'tracecode', 'onnx', 'runtime', 'train', 'host', 'autodiff', 'renderer', 'electron', 'cli', 'kernels'], 'engine/layers imports only engine/core (the registry is what others dispatch through)'),
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: restrict(['electron', 'electron/*', ...nodeBuiltinPatterns, 'onnxruntime-node'], ['electron', 'cli', 'engine/runtime', 'engine/train', 'engine/autodiff'], 'the renderer runs in a browser: it talks to numerics through the Host API only'),
  },
  {
    files: ['kernels/**/*.ts'],
    rules: restrict(UI, ['renderer', 'electron', 'cli'], 'kernels build on engine/onnx and register themselves'),
  },
);
