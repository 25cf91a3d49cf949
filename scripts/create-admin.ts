// Creates a clinic administrator account.
//
//   node --import tsx scripts/create-admin.ts --email admin@clinic.example --name "Dr Admin"
//
// The password comes from CONFIDE_ADMIN_PASSWORD, or is asked on the
// terminal (not echoed) or read from the first line of stdin. It is never
// printed. The database is <CONFIDE_DATA_DIR or "data">/confide.sqlite, or PostgreSQL when CONFIDE_DATABASE_URL is set.
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { openStores, databaseTarget } from '../server/store/index.ts';
import { DuplicateError } from '../server/store/users.ts';
import { assertNewPassword, PasswordPolicyError } from '../server/auth/passwords.ts';

const usage = 'usage: node --import tsx scripts/create-admin.ts --email <email> --name "<name>"';

function fail(message: string): never {
  process.stderr.write(`create-admin: ${message}\n`);
  process.exit(1);
}

/** Reads one line from stdin; on a terminal, without echoing it. */
function askPassword(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY === true;
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = readline.createInterface({ input: process.stdin, output, terminal: tty });
  return new Promise((resolve, reject) => {
    let answered = false;
    if (tty) process.stderr.write(prompt);
    muted = true;
    rl.once('line', (line) => {
      answered = true;
      muted = false;
      if (tty) process.stderr.write('\n');
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) reject(new Error('no password given (stdin closed)'));
    });
  });
}

async function main(): Promise<void> {
  let values: { email?: string | undefined; name?: string | undefined };
  try {
    ({ values } = parseArgs({
      options: { email: { type: 'string' }, name: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
  }
  const email = z.email().max(254).safeParse(values.email?.trim());
  if (!email.success) fail(`--email must be an email address\n${usage}`);
  const name = values.name?.trim() ?? '';
  if (name.length < 1 || name.length > 100) fail(`--name must be 1–100 characters\n${usage}`);

  let password = process.env.CONFIDE_ADMIN_PASSWORD;
  if (password === undefined || password === '') {
    password = await askPassword('Password for the new admin: ');
    if (process.stdin.isTTY) {
      const again = await askPassword('Same password again: ');
      if (again !== password) fail('the passwords differ; nothing was created');
    }
  }
  try {
    assertNewPassword(password);
  } catch (err) {
    if (err instanceof PasswordPolicyError) fail(err.message);
    throw err;
  }

  const target = databaseTarget(process.env.CONFIDE_DATA_DIR || 'data', process.env.CONFIDE_DATABASE_URL || undefined);
  // Never the URL itself: it may hold a password.
  const where = target.dialect === 'sqlite' ? target.file : 'PostgreSQL (CONFIDE_DATABASE_URL)';
  const stores = await openStores(target);
  try {
    const user = await stores.users.create({ email: email.data, name, role: 'admin', password });
    process.stdout.write(`Created admin ${user.email} ("${user.name}", id ${user.id}) in ${where}\n`);
  } catch (err) {
    if (err instanceof DuplicateError) fail(`an account with email ${email.data.toLowerCase()} already exists in ${where}; nothing was changed`);
    throw err;
  } finally {
    await stores.db.close();
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
