// A consultation made directly in the server's store (as the admin console
// would), with a signed-in doctor and the invite links' fragments, so call
// tests can put pages in it quickly. The full UI path is covered by
// tests/e2e/teleconsultation-flow.test.ts.
import type { Page } from 'playwright-core';
import type { ConfideServer } from '../../../server/app.ts';
import type { User } from '../../../server/store/users.ts';
import { generateRoomSecret, roomSecretFragment } from '../../../shared/crypto/room-secret.ts';
import { waitFor } from './browser.ts';

let counter = 0;

export class TestConsultation {
  /** When joinAsPatient last admitted someone (ms since epoch): call-setup measurements start here. */
  admittedAt = 0;

  private constructor(
    readonly server: ConfideServer,
    readonly id: string,
    readonly doctor: User,
    readonly doctorSession: string,
    readonly patientToken: string,
    readonly secret: Uint8Array,
  ) {}

  static async create(server: ConfideServer, doctorName = 'Dr Alice'): Promise<TestConsultation> {
    const doctor = await server.stores.users.create({
      email: `doctor${++counter}-${Date.now()}@clinic.test`,
      name: doctorName,
      role: 'doctor',
      password: 'correct horse battery staple',
    });
    const { consultation, patientToken } = await server.stores.consultations.create({
      doctorId: doctor.id,
      patientName: 'Patient',
      scheduledAt: Date.now(),
      createdBy: 'test',
    });
    return new TestConsultation(server, consultation.id, doctor, await server.stores.sessions.create(doctor.id), patientToken, generateRoomSecret());
  }

  get doctorLink(): string {
    return `/consultation/${this.id}#${roomSecretFragment(this.secret)}`;
  }

  get patientLink(): string {
    return `/join/${this.id}#t=${this.patientToken}&${roomSecretFragment(this.secret)}`;
  }

  /** Opens the doctor link signed in, passes the device check, and waits until in the call. */
  async joinAsDoctor(page: Page): Promise<string> {
    await page.context().addCookies([{ name: 'confide_session', value: this.doctorSession, url: this.server.url }]);
    await page.goto(this.doctorLink);
    await page.getByRole('button', { name: 'Continue' }).click();
    return joined(page);
  }

  /** Opens the patient link, passes the device check, waits, and is admitted (server-side). */
  async joinAsPatient(page: Page, name: string): Promise<string> {
    await page.goto(this.patientLink);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('waiting-room').waitFor();
    const entry = await waitFor(
      `${name} in the waiting room`,
      async () => this.server.consultations.waitingList(this.id).find((w) => w.displayName === name),
      (w) => w !== undefined,
    );
    this.admittedAt = Date.now();
    // One more participant, even on the same link (the 3-person tests); replacing is tested on its own.
    await this.server.consultations.admit(this.doctor, this.id, entry!.requestId, 'add');
    return joined(page);
  }

  /**
   * Like joinAsPatient, but the doctor admits from its own page's waiting
   * list, as in real use (the doctor's list then no longer shows the patient).
   * A second person on the same link is admitted with "Admit both".
   */
  async joinAsPatientAdmittedIn(doctorPage: Page, page: Page, name: string, admit: 'Admit' | 'Admit both' = 'Admit'): Promise<string> {
    await page.goto(this.patientLink);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('waiting-room').waitFor();
    await doctorPage.getByTestId('waiting-list').getByRole('button', { name: `${admit} ${name}` }).click();
    return joined(page);
  }
}

async function joined(page: Page): Promise<string> {
  await page.locator('main[data-state="joined"]').waitFor({ timeout: 30_000 });
  return page.evaluate(() => {
    const session = window.__confide?.session as { snapshot(): { peerId?: string } } | undefined;
    const id = session?.snapshot().peerId;
    if (!id) throw new Error('not joined');
    return id;
  });
}
