// Haven's two local lint rules, for what the built-in rules cannot express (issue 8). Everything
// else in the house rules is a built-in rule configured in eslint.config.js.
import path from 'node:path';

/**
 * A module's two public doors, as an import specifier can name them: index.js (the front door:
 * the plugin and what other modules call) and schemas.js (the contract door: its schemas only,
 * what other schema files and the browser bundle may import without server code). Top level only:
 * `modules/<m>/<room>/schemas.js` stays the module's own business.
 */
const PUBLIC_DOORS = new Set(['index.js', 'index.ts', 'schemas.js', 'schemas.ts']);

/**
 * Where a path sits relative to the modules folder: the module's name and the path inside it,
 * or undefined outside every module.
 */
function locateInModules(modulesDir, file) {
  const relative = path.relative(modulesDir, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const [name, ...inner] = relative.split(path.sep);
  // A file lying loose in the modules folder belongs to no module.
  if (inner.length === 0) return undefined;
  return { name, inner: inner.join('/') };
}

/**
 * Why a local rule: `no-restricted-imports` matches the specifier's text, but whether
 * `../consents/repo.js` leaves its module depends on where the importing file sits
 * (`patients/notes/x.ts` stays inside patients; `break-glass/x.ts` reaches into another module's
 * room). Expressing that with built-in patterns would take one generated block per module and
 * per folder depth. This rule resolves each relative specifier against the importing file instead.
 *
 * @type {import('eslint').Rule.RuleModule}
 */
const moduleFrontDoors = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Outside server/src/modules/<m>/, import only modules/<m>/index.js or modules/<m>/schemas.js; inside it, anything of it.',
    },
    schema: [
      {
        type: 'object',
        properties: { modulesDir: { type: 'string' } },
        required: ['modulesDir'],
        additionalProperties: false,
      },
    ],
    messages: {
      deepImport:
        "Import module '{{module}}' through its front door (modules/{{module}}/index.js) or its contract door (modules/{{module}}/schemas.js), not '{{specifier}}': its other files are its own business.",
    },
  },
  create(context) {
    const modulesDir = path.resolve(context.options[0].modulesDir);
    const importer = locateInModules(modulesDir, context.filename);

    function check(node, specifier) {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = locateInModules(
        modulesDir,
        path.resolve(path.dirname(context.filename), specifier),
      );
      if (target === undefined || target.name === importer?.name) return;
      if (PUBLIC_DOORS.has(target.inner)) return;
      context.report({ node, messageId: 'deepImport', data: { module: target.name, specifier } });
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) =>
        node.source.type === 'Literal' && check(node.source, node.source.value),
      // `import('../x/y.js').Type` in a type position.
      TSImportType: (node) => check(node.source, node.source.value),
    };
  },
};

const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'all']);

const startsWithSlash = (node) =>
  (node?.type === 'Literal' && typeof node.value === 'string' && node.value.startsWith('/')) ||
  (node?.type === 'TemplateLiteral' && node.quasis[0].value.cooked.startsWith('/'));

/**
 * A call that declares a route or an inline plugin: `app.get('/path', …)`, `app.route({ url, … })`,
 * `app.register(async (scoped) => …)`. The argument shapes tell these from `map.get(key)` or a
 * service's own `register(input)`.
 */
function declaresRoute(call) {
  const callee = call.callee;
  if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return false;
  const [first] = call.arguments;
  switch (callee.property.name) {
    case 'route':
      return (
        first?.type === 'ObjectExpression' &&
        first.properties.some(
          (property) =>
            property.type === 'Property' &&
            property.key.type === 'Identifier' &&
            property.key.name === 'url',
        )
      );
    case 'register':
      return first?.type === 'ArrowFunctionExpression' || first?.type === 'FunctionExpression';
    default:
      return ROUTE_METHODS.has(callee.property.name) && startsWithSlash(first);
  }
}

function functionName(node) {
  if (node.id) return node.id.name;
  const parent = node.parent;
  if (parent.type === 'VariableDeclarator' && parent.id.type === 'Identifier') {
    return parent.id.name;
  }
  if (
    (parent.type === 'Property' || parent.type === 'MethodDefinition') &&
    parent.key.type === 'Identifier'
  ) {
    return parent.key.name;
  }
  return 'an anonymous function';
}

/**
 * Why a local rule: the built-in `max-lines-per-function` measures every function, including
 * the `register…Routes` plugin that lists a module's routes — a declaration table that grows
 * with each route, which the 400-line file limit already bounds. Handlers come in several
 * shapes (arrows passed to `typed.post`, named functions, `handler:` properties, factories
 * returning a handler), so "every function in a routes file except one that itself declares
 * routes or registers an inline plugin" is the measure: handlers and their helpers stay short, the
 * declaration list does not count.
 *
 * @type {import('eslint').Rule.RuleModule}
 */
const routeHandlerLines = {
  meta: {
    type: 'suggestion',
    docs: {
      description:
        'Limits the length of every function in a routes file except those declaring routes.',
    },
    schema: [
      {
        type: 'object',
        properties: { max: { type: 'integer', minimum: 1 } },
        required: ['max'],
        additionalProperties: false,
      },
    ],
    messages: {
      tooLong:
        'Route handler {{name}} has {{lines}} lines (limit {{max}}): parse, call the service, shape the answer.',
    },
  },
  create(context) {
    const { max } = context.options[0];
    /** The functions being walked, innermost last, each marked once it declares a route. */
    const open = [];

    const enter = (node) => open.push({ node, declaresRoutes: false });
    const leave = () => {
      const { node, declaresRoutes } = open.pop();
      if (declaresRoutes) return;
      // Like max-lines-per-function: a method or property function counts from its key.
      const measured =
        node.parent.type === 'MethodDefinition' ||
        (node.parent.type === 'Property' && node.parent.method)
          ? node.parent
          : node;
      const lines = measured.loc.end.line - measured.loc.start.line + 1;
      if (lines > max) {
        context.report({
          node: measured,
          messageId: 'tooLong',
          data: { name: functionName(node), lines: String(lines), max: String(max) },
        });
      }
    };

    return {
      FunctionDeclaration: enter,
      FunctionExpression: enter,
      ArrowFunctionExpression: enter,
      'FunctionDeclaration:exit': leave,
      'FunctionExpression:exit': leave,
      'ArrowFunctionExpression:exit': leave,
      CallExpression(call) {
        const innermost = open.at(-1);
        if (innermost && declaresRoute(call)) innermost.declaresRoutes = true;
      },
    };
  },
};

export default {
  meta: { name: 'haven' },
  rules: {
    'module-front-doors': moduleFrontDoors,
    'route-handler-lines': routeHandlerLines,
  },
};
