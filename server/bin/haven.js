#!/usr/bin/env node
// Entry point of `npx haven`: runs the compiled CLI (npm install builds it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('haven: the server is not built yet; run `npm run build` first.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
