// One Confide node as its own process, for the several-node tests (a node
// must be SIGKILLable without killing the test): the server's own start, with
// the test build of the client and the tests' cheap password hashing.
// Configured by the environment, as `npm start` is; prints "READY <url>".
import pino from 'pino';
import { loadConfig } from '../../../server/config.ts';
import { startConfide } from '../../../server/app.ts';
import { FAST_HASHER, TEST_CLIENT_DIR } from './server.ts';

const cfg = loadConfig(process.env);
const server = await startConfide(cfg, { logger: pino({ level: cfg.logLevel }), clientDir: TEST_CLIENT_DIR, passwordHasher: FAST_HASHER });
process.stdout.write(`READY ${server.url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
