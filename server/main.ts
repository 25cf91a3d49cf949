import { loadConfig } from './config.ts';
import { startConfide } from './app.ts';

const server = await startConfide(loadConfig());
server.log.info(`Confide is running at ${server.url}`);
console.log(`\n  Confide is running: ${server.url}\n`);
if ((await server.stores.users.count('admin')) === 0) {
  console.log(
    '  No clinic admin yet. Create the first one (in another terminal):\n' +
      '    npm run create-admin -- --email you@clinic.example --name "Your Name"\n' +
      '  then sign in at the URL above.\n',
  );
}

// A renewed certificate (certbot's deploy hook, a timer): `systemctl reload confide` sends SIGHUP.
process.on('SIGHUP', () => {
  try {
    server.reloadTls();
    server.log.info('TLS certificate reloaded');
  } catch (err) {
    server.log.error({ err: String(err) }, 'TLS certificate reload failed; keeping the previous one');
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
