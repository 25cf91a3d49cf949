/**
 * Compile-time flag set by vite.config.ts (`define`): true only in the test
 * build (`vite build --mode test`), false in production, where every
 * `if (__CONFIDE_TEST_HOOKS__)` branch is dead code and removed.
 * Unit tests run client modules with it false (vitest.config.ts).
 */
declare const __CONFIDE_TEST_HOOKS__: boolean;
