// /api/admin/*: doctor accounts and consultations. Admins only (see the access
// levels in shared/protocol/staff-api.ts).
import type { FastifyInstance } from 'fastify';
import { DuplicateError } from '../../store/users.ts';
import { ApiError, consultationView, userOf, type ApiDeps } from './common.ts';
import { route } from './route.ts';

export function adminRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, consultations, audit, enrolments } = deps.stores;
  const stores = deps.stores;

  const doctor = async (id: string) => {
    const u = await users.get(id);
    if (!u || u.role !== 'doctor') throw new ApiError(404, 'not-found', 'no such doctor');
    return u;
  };

  route(app, stores, 'listDoctors', async () => ({ doctors: await users.list('doctor') }));

  // The admin names the account; the doctor chooses the password, through the
  // enrolment link in this answer (shown once). The admin never knows it.
  route(app, stores, 'createDoctor', async ({ body }, req) => {
    const admin = userOf(req);
    try {
      const user = await users.create({ ...body, role: 'doctor' });
      const enrolment = await enrolments.issue(user.id, `admin:${admin.id}`);
      req.log.info({ by: admin.id, userId: user.id }, 'doctor account created, enrolment link issued');
      return { user, enrolment };
    } catch (err) {
      if (err instanceof DuplicateError) throw new ApiError(409, 'duplicate-email', 'an account with this email exists');
      throw err;
    }
  });

  // A reset: the password stops working, every session and socket of the
  // doctor ends, and a new enrolment link is the only way back in.
  route(app, stores, 'resetDoctorPassword', async ({ params }, req) => {
    const admin = userOf(req);
    const { id } = await doctor(params.id);
    await users.clearPassword(id);
    const enrolment = await enrolments.issue(id, `admin:${admin.id}`);
    req.log.info({ by: admin.id, userId: id }, 'doctor password reset, enrolment link issued');
    return { enrolment };
  });

  route(app, stores, 'disableDoctor', async ({ params }, req) => {
    const { id } = await doctor(params.id);
    await users.setDisabled(id, true); // ends their sessions, and so their sockets
    req.log.info({ by: userOf(req).id, userId: id }, 'doctor account disabled');
  });

  route(app, stores, 'enableDoctor', async ({ params }, req) => {
    const { id } = await doctor(params.id);
    await users.setDisabled(id, false);
    req.log.info({ by: userOf(req).id, userId: id }, 'doctor account enabled');
  });

  route(app, stores, 'createConsultation', async ({ body }, req) => {
    const admin = userOf(req);
    const d = await doctor(body.doctorId);
    if (d.disabled) throw new ApiError(400, 'doctor-disabled', 'this doctor’s account is disabled');
    // The first patient token is dropped: the doctor's browser asks for its own (createInvitation).
    const { consultation } = await consultations.create({
      doctorId: d.id,
      patientName: body.patientName,
      scheduledAt: body.scheduledAt,
      createdBy: admin.id,
    });
    await audit.record(consultation.id, 'created', `admin:${admin.id}`);
    return { consultation };
  });

  route(app, stores, 'listConsultations', async () => {
    const names = new Map((await users.list('doctor')).map((u) => [u.id, u.name]));
    const now = Date.now();
    return {
      consultations: (await consultations.list()).map((c) => ({
        ...consultationView(c, deps, now),
        doctorName: names.get(c.doctorId) ?? '',
      })),
    };
  });

  route(app, stores, 'endConsultation', async ({ params: { id } }, req) => {
    const c = await consultations.get(id);
    if (!c) throw new ApiError(404, 'not-found', 'no such consultation');
    if (c.status !== 'ended') {
      const actor = `admin:${userOf(req).id}`;
      await deps.endConsultation(id, actor);
      // In case endConsultation left the bookkeeping to us.
      if ((await consultations.get(id))?.status !== 'ended') {
        const at = Date.now(); // one instant for the status and its audit entry
        await consultations.setStatus(id, 'ended', at);
        await audit.record(id, 'ended', actor, at);
      }
    }
  });
}
