/**
 * Compile-time flag set by vite.config.ts (`define`): true only in the test
 * build (`vite build --mode test`), false in production, where every
 * `if (__CONFIDE_TEST_HOOKS__)` branch is dead code and removed.
 * Unit tests run client modules with it false (vitest.config.ts).
 */
declare const __CONFIDE_TEST_HOOKS__: boolean;

/**
 * Compile-time flag, true only in the bench build (`vite build --mode bench`,
 * dist/client-bench): the E2EE-off baseline and the in-Worker crypto timer
 * of `npm run bench`. False in production and test builds, which contain
 * neither (tests/integration/production-build.test.ts).
 */
declare const __CONFIDE_BENCH__: boolean;
