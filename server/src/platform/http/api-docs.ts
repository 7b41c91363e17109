// The API document's routes: the OpenAPI JSON and a Swagger UI to read it. Public in
// development and tests; in production only for admins (API_DOCS_SCOPE), like any scoped route.
//
// Swagger UI's own plugin (@fastify/swagger-ui) declares its routes without `config.access` or a
// rate class, which the route contract refuses, and answers its JSON without a response schema;
// so the page and files are served here, declared like every other route, and only the
// library's built files are taken from that package. Nothing runs inline: Haven's CSP
// (script-src 'self', style-src 'self') applies unchanged, so the start-up code is a file too.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RateClass } from '../../config.js';
import { openApiDocument } from './openapi.js';
import { PUBLIC, requireScopes } from './route-contract.js';
import { openAnswer } from './schemas.js';

export const API_DOCS_PATH = '/api/docs';
export const OPENAPI_DOCUMENT_PATH = `${API_DOCS_PATH}/openapi.json`;
const UI_FILES_PATH = `${API_DOCS_PATH}/ui`;

/**
 * What a caller needs to read the document and its UI in production. Only the admin role holds
 * it; the admins' read-only inspection scope is reused rather than a new one, so that the role
 * table and every token stay as they are.
 */
export const API_DOCS_SCOPE = 'audit:read';

const SWAGGER_UI_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json')),
  'static',
);

const UI_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Haven API</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="${UI_FILES_PATH}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${UI_FILES_PATH}/swagger-ui-bundle.js"></script>
    <script src="${UI_FILES_PATH}/start.js"></script>
  </body>
</html>
`;

/** Swagger UI's start-up. In production the page only reads: no "Try it out" against live data. */
function startScript(production: boolean): string {
  const methods = production ? [] : ['get', 'put', 'post', 'delete', 'patch'];
  return `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_DOCUMENT_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    validatorUrl: null,
    supportedSubmitMethods: ${JSON.stringify(methods)},
  });
});
`;
}

const UI_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'start.js'] as const;
type UiFile = (typeof UI_FILES)[number];
const UI_FILE_TYPES: Readonly<Record<UiFile, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'start.js': 'text/javascript; charset=utf-8',
};

/** Only these names: the route never builds a path from anything the caller chose. */
const UiFileParams = Type.Object(
  { file: Type.Union(UI_FILES.map((name) => Type.Literal(name))) },
  { additionalProperties: false },
);

const DocumentResponse = openAnswer(
  Type.Object(
    { openapi: Type.Literal('3.1.0') },
    { additionalProperties: true, description: 'This OpenAPI 3.1 document.' },
  ),
);

/**
 * The document and its UI. Public in development and tests; in production only for holders of
 * API_DOCS_SCOPE (others get the usual 401/403 problem), and the page cannot send requests.
 * Register after installOpenApi, so that the document lists its own JSON route.
 */
export function registerApiDocs(app: FastifyInstance, options: { production: boolean }): void {
  const access = options.production ? requireScopes([API_DOCS_SCOPE]) : PUBLIC;
  const rateClass: RateClass = options.production ? 'read' : 'public';
  const config = { access, rateClass };
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  let documentJson: string | undefined;
  const files = new Map<UiFile, string>([['start.js', startScript(options.production)]]);
  // Read on first use (most apps, tests above all, never serve the UI), then kept.
  async function uiFile(name: UiFile): Promise<string> {
    const known = files.get(name);
    if (known !== undefined) return known;
    const content = await readFile(path.join(SWAGGER_UI_DIR, name), 'utf8');
    files.set(name, content);
    return content;
  }

  // Untyped: the answer is the document already serialized, not an object to serialize.
  app.get(
    OPENAPI_DOCUMENT_PATH,
    { config, schema: { response: { 200: DocumentResponse } } },
    async function sendOpenApiDocument(_request, reply) {
      // Serialized once: the routes cannot change after start.
      documentJson ??= JSON.stringify(openApiDocument(app));
      return reply.type('application/json; charset=utf-8').send(documentJson);
    },
  );
  typed.get(
    API_DOCS_PATH,
    { config, schema: { hide: true, response: { 200: Type.String({ description: 'HTML' }) } } },
    async function sendDocsPage(_request, reply) {
      return reply.type('text/html; charset=utf-8').send(UI_PAGE);
    },
  );
  typed.get(
    `${UI_FILES_PATH}/:file`,
    {
      config,
      schema: {
        hide: true,
        params: UiFileParams,
        response: { 200: Type.String({ description: 'a file of the docs UI' }) },
      },
    },
    async function sendDocsFile(request, reply) {
      const name = request.params.file;
      return reply.type(UI_FILE_TYPES[name]).send(await uiFile(name));
    },
  );
}
