// The whole product in real Chromium pages, through the UI only: the admin
// (created with the CLI) signs in, adds a doctor (who gets an enrolment link
// and chooses their own password) and schedules a consultation; the doctor
// invites the patient from their dashboard (their browser makes the key) and
// opens the call; the patient opens the patient link, passes the device
// check, waits and is admitted; both decrypt each other; chat and a
// 2 MB PDF go each way byte for byte; screen share is seen; the doctor ends
// the consultation, the patient link stops working and the doctor's browser
// forgets the room secret. Screenshots of every
// screen go to tests/artifacts/.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ConfideServer } from '../../server/app.ts';
import { launchChromium, newPerson, waitFor } from './support/browser.ts';
import { startTestServer } from './support/server.ts';
import { e2eeStats, inbound } from './support/call.ts';
import { shot } from './support/artifacts.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-flow-'));
const ADMIN = { email: 'admin@clinic.example', password: 'clinic console passphrase', name: 'Clinic Admin' };
const DOCTOR = { email: 'dr.martin@clinic.example', password: 'stethoscope morning coffee', name: 'Dr Claire Martin' };
const PATIENT = 'Camille Durand';

let server: ConfideServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_DATA_DIR: dataDir });
  // The first admin is made the documented way: the CLI, next to the running server.
  const cli = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/create-admin.ts', '--email', ADMIN.email, '--name', ADMIN.name],
    { cwd: root, env: { ...process.env, CONFIDE_DATA_DIR: dataDir, CONFIDE_ADMIN_PASSWORD: ADMIN.password }, encoding: 'utf8' },
  );
  expect(cli.status, cli.stderr).toBe(0);
  expect(cli.stdout + cli.stderr).not.toContain(ADMIN.password);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const flowShot = (page: Page, name: string) => shot(page, name, true);

/** A small but valid-looking PDF padded to ~2 MB of random bytes (in a comment stream). */
function makePdf(label: string): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% ${label}\n1 0 obj << /Type /Catalog >> endobj\n`);
  return Buffer.concat([head, randomBytes(2 * 1024 * 1024), Buffer.from('\n%%EOF\n')]);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function sendPdf(from: Page, name: string, pdf: Buffer): Promise<void> {
  await from.getByTestId('chat-file-input').setInputFiles({ name, mimeType: 'application/pdf', buffer: pdf });
}

async function receivedPdf(to: Page, name: string): Promise<Buffer> {
  const message = to.locator('[data-testid="chat-message"][data-status="received"]', { hasText: name });
  await message.waitFor({ timeout: 60_000 });
  const [download] = await Promise.all([to.waitForEvent('download'), message.getByTestId('chat-download').click()]);
  return fs.readFileSync((await download.path())!);
}

describe('teleconsultation flow', () => {
  it('admin → doctor → patient → encrypted call, chat, files, screen share → end', async () => {
    // --- Admin ---
    const admin = await newPerson(browser, server.url);
    await admin.page.goto('/');
    await flowShot(admin.page, '01-sign-in');
    await admin.page.getByLabel('Email').fill(ADMIN.email);
    await admin.page.getByLabel('Password').fill(ADMIN.password);
    await admin.page.getByRole('button', { name: 'Sign in' }).click();
    await admin.page.getByRole('heading', { name: 'Clinic console' }).waitFor();

    await admin.page.getByLabel('Full name').fill(DOCTOR.name);
    await admin.page.getByLabel('Email').fill(DOCTOR.email);
    await admin.page.getByRole('button', { name: 'Create', exact: true }).click();
    // No password from the admin: an enrolment link, to hand to the doctor.
    const enrolmentLink = await admin.page.getByTestId('enrolment-link').inputValue();
    expect(enrolmentLink).toMatch(/\/enrol#t=[A-Za-z0-9_-]{43}$/);
    await admin.page.getByTestId('doctor-list').getByText(DOCTOR.name).first().waitFor();

    await admin.page.getByLabel('Patient name').fill(PATIENT);
    await admin.page.getByRole('button', { name: 'Create consultation' }).click();
    await admin.page.getByTestId('consultation-scheduled').waitFor();
    // The console holds no link and no key of the consultation.
    expect(await admin.page.locator('body').innerText()).not.toMatch(/#k=|#t=.*&k=|\/join\//);
    await flowShot(admin.page, '02-admin-console');

    // --- Doctor: chooses a password with the enrolment link, invites the patient, opens the call ---
    const doctor = await newPerson(browser, server.url);
    await doctor.page.goto(enrolmentLink);
    await doctor.page.getByRole('heading', { name: 'Choose your password' }).waitFor();
    await doctor.page.getByLabel('New password').fill(DOCTOR.password);
    await doctor.page.getByLabel('The same password again').fill(DOCTOR.password);
    await doctor.page.getByRole('button', { name: 'Set my password' }).click();
    const entry = doctor.page.getByTestId('doctor-consultations').locator('li', { hasText: PATIENT });
    await entry.getByRole('button', { name: `Invite the patient ${PATIENT}` }).click();
    const patientLink = await entry.getByTestId('patient-link').inputValue();
    expect(patientLink).toMatch(/\/join\/[a-z0-9]{16}#t=[A-Za-z0-9_-]+&k=[0-9a-f]{64}$/);
    const consultationId = /\/join\/([a-z0-9]{16})/.exec(patientLink)![1]!;
    await flowShot(doctor.page, '02b-doctor-invites');
    await entry.getByRole('link', { name: `Open ${PATIENT}` }).click();
    await doctor.page.getByTestId('device-check').waitFor();
    await waitFor('doctor mic level', () => doctor.page.getByTestId('mic-level').evaluate((m) => (m as HTMLMeterElement).value), (v) => v > 0);
    await doctor.page.getByRole('button', { name: 'Continue' }).click();
    await doctor.page.locator('main[data-state="joined"][data-role="doctor"]').waitFor();
    await doctor.page.getByText('No one is waiting.').waitFor();

    // --- Patient (phone-sized screen): device check, name, waiting room ---
    const patient = await newPerson(browser, server.url);
    await patient.page.setViewportSize({ width: 390, height: 844 });
    await patient.page.goto(patientLink);
    await patient.page.getByTestId('device-check').waitFor();
    expect(await patient.page.getByTestId('link-with').textContent()).toMatch(new RegExp(`^Consultation with ${DOCTOR.name}, today `));
    await waitFor('patient preview', () => patient.page.locator('video.preview').evaluate((v) => (v as HTMLVideoElement).videoWidth), (w) => w > 0);
    await patient.page.getByLabel('Your name').fill(PATIENT);
    await flowShot(patient.page, '03-patient-device-check');
    await patient.page.getByRole('button', { name: 'Continue' }).click();
    await patient.page.getByTestId('waiting-room').waitFor();
    await flowShot(patient.page, '04-patient-waiting-room');

    // --- Doctor admits ---
    const waitingList = doctor.page.getByTestId('waiting-list');
    await waitingList.getByText(PATIENT, { exact: true }).first().waitFor();
    await flowShot(doctor.page, '05-doctor-waiting-room');
    await waitingList.getByRole('button', { name: `Admit ${PATIENT}` }).click();
    await patient.page.locator('main[data-state="joined"][data-role="patient"]').waitFor();

    // Both decrypt each other; badges say so; one safety code.
    for (const p of [doctor.page, patient.page]) {
      await waitFor('decoding', () => inbound(p), (s) => s.some((x) => x.kind === 'video' && x.framesDecoded >= 30));
      await p.locator('[data-testid="e2ee-badge"][data-state="decrypting"]').waitFor({ timeout: 15_000 });
      const st = await e2eeStats(p);
      expect(Object.values(st.receivers).every((r) => r.failedAuth === 0)).toBe(true);
    }
    expect(await doctor.page.getByTestId('safety-code').textContent()).toBe(await patient.page.getByTestId('safety-code').textContent());
    await doctor.page.getByTestId('network-hint').and(doctor.page.locator(':not([data-quality="unknown"])')).waitFor();

    // The admin sees it live, with who is connected — and nothing else.
    const row = admin.page.locator(`tr[data-consultation-id="${consultationId}"]`);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('in_progress');
    await row.getByText(PATIENT).first().waitFor();
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain(DOCTOR.name);
    await flowShot(admin.page, '06-admin-live-status');

    // --- Chat both ways (the panel opens from the control bar; an unread badge says when to) ---
    await patient.page.getByRole('button', { name: 'Chat' }).click();
    await patient.page.getByTestId('chat-input').fill('Bonjour docteur');
    await patient.page.getByTestId('chat-send').click();
    await expect.poll(() => doctor.page.getByRole('button', { name: /^Chat/ }).textContent()).toContain('1 unread');
    await doctor.page.getByRole('button', { name: /^Chat/ }).click();
    await doctor.page.locator('[data-testid="chat-message"][data-status="received"]', { hasText: 'Bonjour docteur' }).waitFor();
    await doctor.page.getByTestId('chat-input').fill('Bonjour, je vous écoute.');
    await doctor.page.getByTestId('chat-send').click();
    await patient.page.locator('[data-testid="chat-message"][data-status="received"]', { hasText: 'je vous écoute' }).waitFor();

    // --- A 2 MB PDF each way, byte for byte ---
    const fromPatient = makePdf('patient');
    const fromDoctor = makePdf('doctor');
    await sendPdf(patient.page, 'analyses.pdf', fromPatient);
    await sendPdf(doctor.page, 'ordonnance.pdf', fromDoctor);
    expect(sha(await receivedPdf(doctor.page, 'analyses.pdf'))).toBe(sha(fromPatient));
    expect(sha(await receivedPdf(patient.page, 'ordonnance.pdf'))).toBe(sha(fromDoctor));

    // Chat closed again (Escape on the patient's bottom sheet, the button on the doctor's side panel).
    await patient.page.keyboard.press('Escape');
    await doctor.page.getByRole('button', { name: 'Close — Messages and files' }).click();
    for (const p of [doctor.page, patient.page]) await p.getByTestId('chat-panel').waitFor({ state: 'hidden' });

    // --- Screen share (encrypted like the camera) ---
    const doctorId = await doctor.page.evaluate(() => (window.__confide?.session as { snapshot(): { peerId: string } }).snapshot().peerId);
    await doctor.page.getByRole('button', { name: 'Share screen' }).click();
    const screenTile = patient.page.getByTestId(`screen-tile-${doctorId}`);
    await screenTile.waitFor({ timeout: 20_000 });
    await waitFor(
      'the shared screen to decode',
      () => inbound(patient.page),
      (s) => s.filter((x) => x.peerId === doctorId && x.kind === 'video' && x.framesDecoded > 10).length === 2,
      30_000,
    );
    await expect.poll(() => screenTile.locator('video').evaluate((v) => (v as HTMLVideoElement).videoWidth)).toBeGreaterThan(0);
    // Kept to check that the capture stops with the call (not only the stream sent).
    await doctor.page.evaluate(() => {
      const w = window as unknown as { __screenTrack?: MediaStreamTrack };
      w.__screenTrack = (window.__confide?.session as { producer(s: string): { track: MediaStreamTrack | null } | undefined }).producer('screen')?.track ?? undefined;
    });
    await flowShot(doctor.page, '07-call-doctor');
    await flowShot(patient.page, '08-call-patient-phone');

    // The doctor's browser remembers the room secret until the links expire…
    const remembered = () => doctor.page.evaluate((id) => window.localStorage.getItem(`confide.secret.${id}`), consultationId);
    expect(JSON.parse((await remembered()) ?? '{}')).toMatchObject({ exp: (await server.stores.consultations.get(consultationId))!.expiresAt });

    // --- The doctor ends it; everyone is told; the patient link stops working ---
    await doctor.page.getByRole('button', { name: 'End consultation' }).click();
    await doctor.page.getByTestId('end-confirm').getByRole('button', { name: 'End for everyone' }).click();
    await patient.page.locator('[data-testid="call-over"][data-reason="ended"]').waitFor();
    await doctor.page.locator('[data-testid="call-over"][data-reason="ended"]').waitFor();
    // The screen capture ended with the call: the browser no longer shows "sharing your screen".
    expect(await doctor.page.evaluate(() => (window as unknown as { __screenTrack?: MediaStreamTrack }).__screenTrack?.readyState)).toBe('ended');
    // …or until it ends.
    expect(await remembered()).toBeNull();
    await flowShot(patient.page, '09-patient-ended');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('ended');

    // The link is checked before the device check: it says so at once.
    const again = await newPerson(browser, server.url);
    await again.page.goto(patientLink);
    await again.page.locator('[data-testid="join-stopped"][data-reason="ended"]').waitFor();
    expect(await again.page.getByTestId('device-check').count()).toBe(0);
    await flowShot(again.page, '10-patient-link-after-end');

    // The audit trail holds metadata only.
    const events = (await server.stores.audit.list(consultationId)).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['created', 'patient_waiting', 'admitted', 'joined', 'ended']));
    for (const p of [admin, doctor, patient, again]) await p.context.close();
  });
});
