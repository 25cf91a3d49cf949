// Accessibility stays at zero violations: axe-core (dev dependency) audits
// every screen a person meets — staff sign-in, clinic console, doctor
// dashboard, device check, waiting room, and the call screen alone, in a
// 1:1 call, with a screen share, with unread messages, with the chat open,
// with the security explanation open, the end-of-consultation confirmation
// and the screen after the call — at 1280×800 (laptop) and 390×844 (phone).
// Screenshots of each go to tests/artifacts/a11y-<screen>-<size>.png.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { waitFor } from './support/browser.ts';
import { callTestEnv } from './support/call-env.ts';
import { inbound } from './support/call.ts';
import { TestConsultation } from './support/consultation.ts';
import { axeViolations, describeViolations, type AxeViolation } from './support/axe.ts';
import { shot } from './support/artifacts.ts';

const env = callTestEnv('observe');

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

describe('accessibility (axe-core)', () => {
  for (const size of SIZES) {
    it(`every screen at ${size.width}×${size.height} has 0 violations`, async () => {
      const found: Record<string, AxeViolation[]> = {};
      const audit = async (page: Page, screen: string) => {
        await page.waitForTimeout(250); // let the last render settle
        found[screen] = await axeViolations(page);
        await shot(page, `a11y-${screen}-${size.name}`);
        console.log(`[axe] ${size.name} ${screen}: ${found[screen].length} violation(s)${found[screen].length ? `\n${describeViolations(found[screen])}` : ''}`);
      };
      const person = async (name: string) => {
        const p = await env.person(name);
        await p.page.setViewportSize({ width: size.width, height: size.height });
        return p;
      };
      const server = env.server;
      const c = await TestConsultation.create(server, 'Dr Alice Martin');

      // --- Staff: sign-in, the clinic console, the doctor's dashboard ---
      const staff = await person('staff');
      await staff.page.goto('/');
      await staff.page.getByRole('button', { name: 'Sign in' }).waitFor();
      await audit(staff.page, 'staff-sign-in');
      const admin = await server.stores.users.create({
        email: `admin-${size.name}-${Date.now()}@clinic.test`,
        name: 'Clinic Admin',
        role: 'admin',
        password: 'correct horse battery staple',
      });
      await staff.context.addCookies([{ name: 'confide_session', value: await server.stores.sessions.create(admin.id), url: server.url }]);
      await staff.page.goto('/');
      await staff.page.getByRole('heading', { name: 'Clinic console' }).waitFor();
      await staff.page.getByTestId('doctor-list').getByText('Dr Alice Martin').first().waitFor();
      await audit(staff.page, 'admin-console');
      await staff.context.clearCookies();
      await staff.context.addCookies([{ name: 'confide_session', value: c.doctorSession, url: server.url }]);
      await staff.page.goto('/');
      await staff.page.getByText('Patient', { exact: false }).first().waitFor();
      await audit(staff.page, 'doctor-dashboard');
      await staff.context.close();

      // --- Doctor: device check, then alone in the call with the waiting list ---
      const doctor = await person('Dr Alice Martin');
      await doctor.context.addCookies([{ name: 'confide_session', value: c.doctorSession, url: server.url }]);
      await doctor.page.goto(c.doctorLink);
      await doctor.page.getByTestId('device-check').waitFor();
      await waitFor('camera preview', () => doctor.page.locator('video.preview').evaluate((v) => (v as HTMLVideoElement).videoWidth), (w) => w > 0);
      await audit(doctor.page, 'doctor-device-check');
      await doctor.page.getByRole('button', { name: 'Continue' }).click();
      await doctor.page.locator('main[data-state="joined"]').waitFor();
      await doctor.page.getByText('No one is waiting.').waitFor();
      await audit(doctor.page, 'call-doctor-alone');

      // --- Patient: device check, waiting room; the doctor sees it waiting ---
      const patient = await person('Camille Durand');
      await patient.page.goto(c.patientLink);
      await patient.page.getByTestId('device-check').waitFor();
      await patient.page.getByLabel('Your name').fill(patient.name);
      await waitFor('camera preview', () => patient.page.locator('video.preview').evaluate((v) => (v as HTMLVideoElement).videoWidth), (w) => w > 0);
      await audit(patient.page, 'patient-device-check');
      await patient.page.getByRole('button', { name: 'Continue' }).click();
      await patient.page.getByTestId('waiting-room').waitFor();
      await audit(patient.page, 'patient-waiting-room');
      const admit = doctor.page.getByTestId('waiting-list').getByRole('button', { name: `Admit ${patient.name}` });
      await admit.waitFor();
      // The waiting list on the empty stage shows its whole content (not clipped) on screen.
      const shown = await doctor.page.getByTestId('waiting-list').evaluate((el) => {
        const card = el.getBoundingClientRect();
        const button = el.querySelector('button')!.getBoundingClientRect();
        return button.height >= 44 && button.top >= card.top && button.bottom <= card.bottom && card.top >= 0 && card.bottom <= window.innerHeight;
      });
      expect(shown, 'Admit is visible inside the waiting list').toBe(true);
      await audit(doctor.page, 'call-doctor-patient-waiting');
      await admit.click();
      await patient.page.locator('main[data-state="joined"]').waitFor();

      // --- 1:1 call ---
      const doctorId = await doctor.page.evaluate(() => (window.__confide?.session as { snapshot(): { peerId: string } }).snapshot().peerId);
      for (const p of [doctor.page, patient.page]) {
        await waitFor('video', () => inbound(p), (s) => s.some((x) => x.kind === 'video' && x.framesDecoded > 10));
        await p.locator('[data-testid="e2ee-badge"][data-state="decrypting"]').waitFor({ timeout: 15_000 });
        await p.locator('[data-testid^="remote-tile-"][data-camera-off="false"]').waitFor({ timeout: 15_000 });
      }
      await audit(doctor.page, 'call-doctor');
      await audit(patient.page, 'call-patient');

      // --- With a screen share ---
      await doctor.page.getByRole('button', { name: 'Share screen' }).click();
      await patient.page.getByTestId(`screen-tile-${doctorId}`).waitFor({ timeout: 20_000 });
      await expect
        .poll(() => patient.page.getByTestId(`screen-tile-${doctorId}`).locator('video').evaluate((v) => (v as HTMLVideoElement).videoWidth), {
          timeout: 20_000,
        })
        .toBeGreaterThan(0);
      await audit(patient.page, 'call-patient-share');
      await audit(doctor.page, 'call-doctor-sharing');
      await doctor.page.getByRole('button', { name: 'Stop sharing' }).click();

      // --- Chat: an unread badge, then the panel (side panel / bottom sheet) open ---
      await patient.page.getByRole('button', { name: 'Chat' }).click();
      await patient.page.getByTestId('chat-input').fill('Bonjour docteur');
      await patient.page.getByTestId('chat-send').click();
      const chatButton = doctor.page.getByTestId('control-bar').getByRole('button', { name: /Chat/ });
      await expect.poll(() => chatButton.textContent()).toContain('1 unread');
      await audit(doctor.page, 'call-doctor-unread');
      await chatButton.click();
      await doctor.page.locator('[data-testid="chat-message"][data-status="received"]', { hasText: 'Bonjour docteur' }).waitFor();
      await audit(doctor.page, 'call-doctor-chat-open');
      await audit(patient.page, 'call-patient-chat-open');

      // --- The security explanation, the end confirmation, the call over ---
      await patient.page.getByRole('button', { name: /Encryption and safety code/ }).click();
      await patient.page.getByRole('heading', { name: 'End-to-end encryption' }).waitFor();
      await audit(patient.page, 'call-patient-security');
      await doctor.page.getByTestId('control-bar').getByRole('button', { name: 'End consultation' }).click();
      await doctor.page.getByTestId('end-confirm').waitFor();
      await audit(doctor.page, 'call-doctor-end-confirm');
      await doctor.page.getByTestId('end-confirm').getByRole('button', { name: 'End for everyone' }).click();
      await patient.page.locator('[data-testid="call-over"]').waitFor();
      await audit(patient.page, 'call-patient-over');

      const total = Object.values(found).reduce((n, v) => n + v.length, 0);
      console.log(`[axe] ${size.name}: ${Object.keys(found).length} screens audited, ${total} violation(s)`);
      const failing = Object.entries(found).filter(([, v]) => v.length);
      expect(failing.map(([screen, v]) => `${screen}:\n${describeViolations(v)}`).join('\n\n')).toBe('');
      for (const p of [doctor, patient]) await p.context.close();
    });
  }
});
