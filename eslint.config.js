// Type-aware lint for server and web (see STYLE.md habits), then the house rules of issue 8:
// module front doors, platform below the modules, typed handlers, file and handler sizes.
// server/test/lint/house-rules.test.ts proves each house rule refuses a planted violation.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import haven from './eslint-rules/index.js';

const TESTS = ['**/*.test.ts', '**/*.test.tsx'];

/**
 * The only files allowed past the 400-line limit: declaration tables that read as lists and grow
 * one entry at a time. Add one here only with its reason.
 */
const DECLARATION_TABLES = [
  // One Kysely interface per database table; it grows with every table the wings add.
  'server/src/platform/db/schema.ts',
  // Applied migrations are history: splitting one after release would change what already ran.
  'server/src/platform/db/migrations/*.ts',
  // Every environment variable, one row each (its own header says to list it here when it grows).
  'server/src/config/variables.ts',
];

/** `request.body as …`, `<…>request.params` and the like: the type provider types them instead. */
const REQUEST_CASTS = ['TSAsExpression', 'TSTypeAssertion'].map((assertion) => ({
  selector: `${assertion} > MemberExpression.expression[object.name='request'][property.name=/^(body|params|query)$/]`,
  message:
    'Declare the route on app.withTypeProvider<TypeBoxTypeProvider>() so request.body, params and query are typed from its schemas; do not cast them.',
}));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'server/bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            'vitest.config.ts',
            'web/vite.config.ts',
            'bench/*.ts',
            'scripts/mutation/*.ts',
          ],
          // The bench scripts have no tsconfig of their own; typescript-eslint caps files
          // linted through the default project at 8 unless told otherwise.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
    },
  },
  {
    files: ['**/*.test.ts', 'server/test/**/*.ts', 'web/e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The local rules are plain JavaScript outside every tsconfig: linted without type information.
    files: ['eslint-rules/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },

  // --- House rules (issue 8) ---
  {
    // A module's inner files are its own business: from anywhere else (other modules, platform,
    // app.ts, main.ts, jobs/, server/test/) only modules/<m>/index.js (front door) and
    // modules/<m>/schemas.js (contract door) may be imported.
    files: ['server/**/*.ts'],
    plugins: { haven },
    rules: {
      'haven/module-front-doors': [
        'error',
        { modulesDir: path.join(import.meta.dirname, 'server/src/modules') },
      ],
    },
  },
  // Schema files are the contract the browser bundle shares (server/src/contract.ts): at run time
  // they import only typebox and other schema files, so no server code reaches the SPA. Type-only
  // imports vanish in compilation and stay free.
  ...[
    [
      ['server/src/modules/*/schemas.ts', 'server/src/modules/*/*/schemas.ts'],
      '^(?!typebox$)(?!(\\.{1,2}/)+([\\w-]+/)*schemas\\.js$)',
    ],
    [
      // Plain data: identity/roles.ts is a frozen role→scope table, the words for each role and
      // pure functions over them, importing only types; the admin answers list the roles it names.
      ['server/src/modules/identity/schemas.ts', 'server/src/modules/identity/*/schemas.ts'],
      '^(?!typebox$)(?!(\\.{1,2}/)+([\\w-]+/)*schemas\\.js$)(?!(\\.{1,2}/)roles\\.js$)',
    ],
  ].map(([files, regex]) => ({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex,
              allowTypeImports: true,
              message:
                'A schemas file imports only typebox and other schemas.js files: it is part of the browser bundle (server/src/contract.ts).',
            },
          ],
        },
      ],
    },
  })),
  {
    // Imports point one way: modules build on platform, never the reverse. A specifier reaching a
    // module passes through a `modules/` segment, and platform has no app.ts or main.ts of its
    // own, so matching the specifier text is exact here.
    files: ['server/src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)modules/',
              message: 'platform/ never imports a module: move the shared piece into platform.',
            },
            {
              regex: '^(\\./|(\\.\\./)+)(app|main)\\.js$',
              message: 'platform/ never imports app.ts or main.ts: they assemble platform.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/src/**/*.ts'],
    ignores: TESTS,
    rules: { 'no-restricted-syntax': ['error', ...REQUEST_CASTS] },
  },
  {
    // Counted as `wc -l` counts, blank lines and comments included, so the lint and a reader agree.
    files: ['server/src/**/*.ts', 'web/src/**/*.{ts,tsx}'],
    ignores: [...TESTS, ...DECLARATION_TABLES],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Handlers of at most 40 lines. Not the built-in max-lines-per-function: it would also measure
    // the plugin function that lists the routes (eslint-rules/index.js explains the choice).
    files: ['server/src/**/routes.ts', 'server/src/**/*-routes.ts'],
    plugins: { haven },
    rules: { 'haven/route-handler-lines': ['error', { max: 40 }] },
  },
  // The SPA's rooms: features meet only through each other's front door (features/<f>/index.ts);
  // shared/ and auth/ sit below every feature and never import one.
  ...[
    ['web/src/features/*/*.{ts,tsx}', '^\\.\\./[^./][^/]*/'],
    ['web/src/features/*/*/*.{ts,tsx}', '^\\.\\./\\.\\./[^./][^/]*/'],
    ['web/src/app/*.{ts,tsx}', '^\\.\\./features/[^/]+/'],
  ].map(([glob, regex]) => ({
    files: [glob],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex,
              message:
                'Import another feature only through its front door (features/<name>/index.ts).',
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['web/src/shared/**/*.{ts,tsx}', 'web/src/auth/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/(features|app)(/|$)',
              message: 'shared/ and auth/ never import features or the app shell.',
            },
          ],
        },
      ],
    },
  },
);
