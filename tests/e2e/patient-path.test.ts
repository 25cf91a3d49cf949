// The patient's path around the call (issue 10), through the UI only: the
// waiting room names the doctor and shows the patient's own picture; a
// declined patient can try again with the name kept; a second device on the
// same link is marked for the doctor, who replaces the first; someone who
// left rejoins without a second admission; a reload in the waiting room
// waits again as the same entry.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { callTestEnv } from './support/call-env.ts';
import { TestConsultation } from './support/consultation.ts';
import { waitFor } from './support/browser.ts';

const env = callTestEnv('observe');

async function toWaitingRoom(page: Page, link: string, name?: string): Promise<void> {
  await page.goto(link);
  if (name !== undefined) await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByTestId('waiting-room').waitFor();
}

const admissions = async (c: TestConsultation) => (await env.server.stores.audit.list(c.id)).filter((e) => e.event === 'admitted').length;
const patientsInRoom = (c: TestConsultation) => env.server.rooms.peek(c.id)?.peerInfos().filter((p) => p.role === 'patient') ?? [];

describe('the patient path', () => {
  it('waiting room with the doctor and a preview; decline → try again; leave → rejoin without admission', async () => {
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    const doctor = await env.person('doctor');
    const patient = await env.person('patient');
    await c.joinAsDoctor(doctor.page);

    await toWaitingRoom(patient.page, c.patientLink, 'Zoé');
    await expect.poll(() => patient.page.getByTestId('waiting-doctor').textContent()).toContain('Dr Martin');
    await waitFor(
      'the self-preview playing',
      () => patient.page.getByTestId('waiting-preview').evaluate((v: HTMLVideoElement) => v.videoWidth),
      (w) => w > 0,
    );

    await doctor.page.getByTestId('waiting-list').getByRole('button', { name: 'Decline Zoé' }).click();
    await patient.page.getByTestId('join-stopped').and(patient.page.locator('[data-reason="declined"]')).waitFor();
    await patient.page.getByTestId('try-again').click();
    // The name is kept: straight through the device check again.
    expect(await patient.page.getByLabel('Your name').inputValue()).toBe('Zoé');
    await patient.page.getByRole('button', { name: 'Continue' }).click();
    await patient.page.getByTestId('waiting-room').waitFor();
    await doctor.page.getByTestId('waiting-list').getByRole('button', { name: 'Admit Zoé' }).click();
    await patient.page.locator('main[data-state="joined"]').waitFor();
    expect(await admissions(c)).toBe(1);

    await patient.page.getByRole('button', { name: 'Leave' }).click();
    await patient.page.getByTestId('call-over').waitFor();
    await waitFor('the patient out of the room', async () => patientsInRoom(c).length, (n) => n === 0);
    await patient.page.getByTestId('rejoin-after-leave').click();
    await patient.page.locator('main[data-state="joined"]').waitFor();
    expect(await admissions(c)).toBe(1); // back with its credential
    expect(patientsInRoom(c)).toHaveLength(1);
    await doctor.context.close();
    await patient.context.close();
  });

  it('a second device on the same link is marked; "Replace the first" moves the patient, never two Zoé tiles', async () => {
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    const doctor = await env.person('doctor');
    const phone = await env.person('phone');
    const laptop = await env.person('laptop');
    await c.joinAsDoctor(doctor.page);
    await c.joinAsPatientAdmittedIn(doctor.page, phone.page, 'Zoé');

    await toWaitingRoom(laptop.page, c.patientLink, 'Zoé');
    const entry = doctor.page.getByTestId('waiting-list').locator('li[data-same-link="in-call"]');
    await entry.getByTestId('same-link').waitFor();
    await entry.getByRole('button', { name: 'Replace the first Zoé' }).click();
    await laptop.page.locator('main[data-state="joined"]').waitFor();
    await phone.page.getByTestId('call-over').and(phone.page.locator('[data-reason="replaced"]')).waitFor();
    await waitFor('one patient tile at the doctor', () => doctor.page.locator('[data-testid^="remote-tile-"]').count(), (n) => n === 1);
    expect(patientsInRoom(c)).toHaveLength(1);
    for (const p of [doctor, phone, laptop]) await p.context.close();
  });

  it('a reload in the waiting room goes back to waiting: one entry for the doctor, no "second device"', async () => {
    const c = await TestConsultation.create(env.server);
    const doctor = await env.person('doctor');
    const patient = await env.person('patient');
    await c.joinAsDoctor(doctor.page);
    await toWaitingRoom(patient.page, c.patientLink, 'Zoé');
    await doctor.page.getByTestId('waiting-list').getByRole('button', { name: 'Admit Zoé' }).waitFor();
    await patient.page.reload();
    await patient.page.getByTestId('waiting-room').waitFor(); // no device check, no name to type
    await waitFor('one entry, no second-device mark', async () => env.server.consultations.waitingList(c.id), (l) => l.length === 1 && !l[0]!.sameLink);
    await expect.poll(() => doctor.page.getByTestId('waiting-list').locator('li').count()).toBe(1);
    await doctor.page.getByTestId('waiting-list').getByRole('button', { name: 'Admit Zoé' }).click();
    await patient.page.locator('main[data-state="joined"]').waitFor();
    await doctor.context.close();
    await patient.context.close();
  });
});
