import { loadConfig } from './config.ts';
import { startConfide } from './app.ts';

const server = await startConfide(loadConfig());
server.log.info(`Confide is running at ${server.url}`);
console.log(`\n  Confide is running: ${server.url}\n  Open ${server.url}/room/<any-name> in two browser tabs to start a call.\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
