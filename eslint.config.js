// Flat config: typescript-eslint with type information, so promise misuse (floating promises,
// misused promises in callbacks) is caught: an operator that drops a promise loses an error silently.
import tseslint from 'typescript-eslint';

// Layers (docs/architecture.md "Layers"): the folders of src/ each folder of src/ may import. Every
// other folder of src/, and test/, is forbidden to it. Imports are relative (no path aliases), so a
// forbidden import is a specifier that climbs out (`../`, any depth) into a forbidden folder.
// test/integration/lint/layers.test.ts proves each edge, and that every folder of src/ is listed.
const LAYERS = {
  lib: [], // pure helpers, the leaf every layer may use (except the emulator)
  api: ['lib'],
  runtime: ['lib'], // generic controller runtime: knows nothing of Stacks or providers
  providers: ['api', 'lib'],
  stacks: ['api', 'lib', 'runtime', 'providers'],
  devenv: ['lib'], // local control plane for `npm run dev`; the tests reuse it
  emulator: [], // the independent test oracle: none of the operator's code
  cli: ['api', 'lib', 'runtime', 'providers', 'stacks', 'emulator', 'devenv'],
};

function layerPattern(layer, extraAllowed) {
  const allowed = new Set([layer, ...LAYERS[layer], ...extraAllowed]);
  const forbidden = [...Object.keys(LAYERS).filter((l) => !allowed.has(l)), ...(allowed.has('test') ? [] : ['test'])];
  const may = [...LAYERS[layer], ...extraAllowed].filter((l) => l !== 'test');
  return {
    regex: `^(\\./)?(\\.\\./)+(src/)?(${forbidden.join('|')})(/|$)`,
    message: `layer rule: src/${layer} may import ${may.length ? `only ${may.map((l) => `src/${l}`).join(', ')}` : 'nothing outside itself'} of the project, never test/ (docs/architecture.md).`,
  };
}

// no-restricted-imports does not look at import(): the same pattern is applied to import('literal'),
// and a computed specifier (how src/cli/dev.ts once loaded test/ by URL) is refused outright.
function layerRules(layer, extraAllowed = []) {
  const { regex, message } = layerPattern(layer, extraAllowed);
  return {
    'no-restricted-imports': ['error', { patterns: [{ regex, message }] }],
    'no-restricted-syntax': [
      'error',
      { selector: `ImportExpression[source.type='Literal'][source.value=/${regex.replaceAll('/', '\\/')}/]`, message },
      { selector: "ImportExpression[source.type!='Literal']", message: 'layer rule: import() takes a string literal under src/, so the layer rules can check it (docs/architecture.md).' },
    ],
  };
}

const layerBlocks = Object.keys(LAYERS).map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: layerRules(layer),
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'charts/**', 'config/**', 'crds/**', 'test/bench/results/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  ...layerBlocks,
  {
    // Functions stay short (docs/architecture.md): one screen, so a reader holds one in their head.
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-util.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    // Schema literals: one declarative object per kind, read as data, not as control flow.
    files: ['src/api/v1alpha1/schemas.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
);
