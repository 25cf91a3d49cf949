// vitest globalSetup of the e2e project: the browser tests load the test build
// of the client (dist/client-test: window.__confide hooks compiled in), and
// tests/integration/production-build.test.ts inspects the production build
// (dist/client). Both are rebuilt only when their sources changed.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export default function setup(): void {
  execFileSync('bash', [path.join(root, 'scripts/build-client.sh'), 'production', 'test'], { cwd: root, stdio: 'inherit' });
}

/** The bench build (dist/client-bench: test hooks plus the bench-only E2EE-off switch), for the bench and the tests that inspect it. */
export function buildBenchClient(): void {
  execFileSync('bash', [path.join(root, 'scripts/build-client.sh'), 'bench'], { cwd: root, stdio: 'inherit' });
}
