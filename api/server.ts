/** The HTTP API process: `npm run api` (or `npx tsx api/server.ts`) against an existing database and Temporal. */
import { runApiServer } from './process';

await runApiServer();
