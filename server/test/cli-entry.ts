// Runs the CLI from source for tests (the published bin runs the compiled dist/main.js).
import { main } from '../src/main.js';

await main(process.argv);
