// /api/admin/*: doctor accounts and consultations. Admins only (see the access
// levels in shared/protocol/staff-api.ts).
import type { FastifyInstance } from 'fastify';
import { PasswordPolicyError } from '../../auth/passwords.ts';
import { DuplicateError } from '../../store/users.ts';
import { ApiError, consultationView, userOf, type ApiDeps } from './common.ts';
import { route } from './route.ts';

export function adminRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, sessions, consultations, audit } = deps.stores;
  const stores = deps.stores;

  const doctor = (id: string) => {
    const u = users.get(id);
    if (!u || u.role !== 'doctor') throw new ApiError(404, 'not-found', 'no such doctor');
    return u;
  };

  route(app, stores, 'listDoctors', async () => ({ doctors: users.list('doctor') }));

  route(app, stores, 'createDoctor', async ({ body }, req) => {
    try {
      const user = await users.create({ ...body, role: 'doctor' });
      req.log.info({ by: userOf(req).id, userId: user.id }, 'doctor account created');
      return { user };
    } catch (err) {
      if (err instanceof DuplicateError) throw new ApiError(409, 'duplicate-email', 'an account with this email exists');
      if (err instanceof PasswordPolicyError) throw new ApiError(400, 'weak-password', err.message);
      throw err;
    }
  });

  route(app, stores, 'disableDoctor', async ({ params }, req) => {
    const { id } = doctor(params.id);
    users.setDisabled(id, true);
    sessions.revokeAllFor(id);
    req.log.info({ by: userOf(req).id, userId: id }, 'doctor account disabled');
  });

  route(app, stores, 'enableDoctor', async ({ params }, req) => {
    const { id } = doctor(params.id);
    users.setDisabled(id, false);
    req.log.info({ by: userOf(req).id, userId: id }, 'doctor account enabled');
  });

  route(app, stores, 'createConsultation', async ({ body }, req) => {
    const admin = userOf(req);
    const d = doctor(body.doctorId);
    if (d.disabled) throw new ApiError(400, 'doctor-disabled', 'this doctor’s account is disabled');
    const { consultation, patientToken } = consultations.create({
      doctorId: d.id,
      patientName: body.patientName,
      scheduledAt: body.scheduledAt,
      createdBy: admin.id,
    });
    audit.record(consultation.id, 'created', `admin:${admin.id}`);
    return { consultation, patientToken };
  });

  route(app, stores, 'listConsultations', async () => {
    const names = new Map(users.list('doctor').map((u) => [u.id, u.name]));
    const now = Date.now();
    return {
      consultations: consultations.list().map((c) => ({
        ...consultationView(c, deps, now),
        doctorName: names.get(c.doctorId) ?? '',
      })),
    };
  });

  route(app, stores, 'endConsultation', async ({ params: { id } }, req) => {
    const c = consultations.get(id);
    if (!c) throw new ApiError(404, 'not-found', 'no such consultation');
    if (c.status !== 'ended') {
      const actor = `admin:${userOf(req).id}`;
      deps.endConsultation(id, actor);
      // In case endConsultation left the bookkeeping to us.
      if (consultations.get(id)?.status !== 'ended') {
        const at = Date.now(); // one instant for the status and its audit entry
        consultations.setStatus(id, 'ended', at);
        audit.record(id, 'ended', actor, at);
      }
    }
  });
}
