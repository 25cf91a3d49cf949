// Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi (Playwright's
// Firefox channel fails on it), with a fake camera and mic. puppeteer's own
// Firefox profile already turns off updates, telemetry and other background
// traffic. Headless Firefox has no fake screen to share: getDisplayMedia
// answers NotFoundError.
import puppeteer, { type Browser } from 'puppeteer-core';

export const FIREFOX = process.env.CONFIDE_FIREFOX ?? '/usr/bin/firefox-esr';

const PREFS: Record<string, unknown> = {
  // Fake camera and microphone, no permission prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // Plain host candidates (no mDNS names: there is no mDNS responder in the test network).
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Remote video and audio play without a click.
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
};

/** Launches headless Firefox ESR (about 2.5 s). Throws if it is not installed (scripts/setup.sh installs it). */
export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, extraPrefsFirefox: PREFS });
}
