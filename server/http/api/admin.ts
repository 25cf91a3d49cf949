// /api/admin/*: doctor accounts and consultations. Admins only.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PasswordPolicyError } from '../../auth/passwords.ts';
import { DuplicateError } from '../../store/users.ts';
import {
  ApiError,
  ConsultationIdParam,
  consultationView,
  IsoTime,
  parse,
  PersonName,
  requireRole,
  UserIdParam,
  userOf,
  type ApiDeps,
} from './common.ts';

const DAY = 24 * 60 * 60 * 1000;

const NewDoctor = z.strictObject({
  email: z.email().max(254),
  name: PersonName(100),
  password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH),
});

const NewConsultation = z.strictObject({
  doctorId: z.string().min(1).max(64),
  patientName: PersonName(64),
  scheduledAt: IsoTime,
});

export function adminRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, sessions, consultations, audit } = deps.stores;
  app.addHook('onRequest', requireRole(deps.stores, 'admin'));

  const doctor = (id: string) => {
    const u = users.get(id);
    if (!u || u.role !== 'doctor') throw new ApiError(404, 'not-found', 'no such doctor');
    return u;
  };

  app.get('/doctors', async () => ({ doctors: users.list('doctor') }));

  app.post('/doctors', async (req, reply) => {
    const body = parse(NewDoctor, req.body);
    try {
      const user = await users.create({ ...body, role: 'doctor' });
      req.log.info({ by: userOf(req).id, userId: user.id }, 'doctor account created');
      return reply.code(201).send({ user });
    } catch (err) {
      if (err instanceof DuplicateError) throw new ApiError(409, 'duplicate-email', 'an account with this email exists');
      if (err instanceof PasswordPolicyError) throw new ApiError(400, 'weak-password', err.message);
      throw err;
    }
  });

  app.post('/doctors/:id/disable', async (req, reply) => {
    const { id } = doctor(parse(UserIdParam, req.params).id);
    users.setDisabled(id, true);
    sessions.revokeAllFor(id);
    req.log.info({ by: userOf(req).id, userId: id }, 'doctor account disabled');
    return reply.code(204).send();
  });

  app.post('/doctors/:id/enable', async (req, reply) => {
    const { id } = doctor(parse(UserIdParam, req.params).id);
    users.setDisabled(id, false);
    req.log.info({ by: userOf(req).id, userId: id }, 'doctor account enabled');
    return reply.code(204).send();
  });

  app.post('/consultations', async (req, reply) => {
    const admin = userOf(req);
    const body = parse(NewConsultation, req.body);
    const now = Date.now();
    if (body.scheduledAt < now - DAY || body.scheduledAt > now + 730 * DAY) {
      throw new ApiError(400, 'bad-request', 'scheduledAt: must be between 24 hours ago and 2 years ahead');
    }
    const d = doctor(body.doctorId);
    if (d.disabled) throw new ApiError(400, 'doctor-disabled', 'this doctor’s account is disabled');
    const { consultation, patientToken } = consultations.create({
      doctorId: d.id,
      patientName: body.patientName,
      scheduledAt: body.scheduledAt,
      createdBy: admin.id,
    });
    audit.record(consultation.id, 'created', `admin:${admin.id}`);
    return reply.code(201).send({ consultation, patientToken });
  });

  app.get('/consultations', async () => {
    const names = new Map(users.list('doctor').map((u) => [u.id, u.name]));
    const now = Date.now();
    return {
      consultations: consultations.list().map((c) => ({
        ...consultationView(c, deps, now),
        doctorName: names.get(c.doctorId) ?? '',
      })),
    };
  });

  app.post('/consultations/:id/end', async (req, reply) => {
    const { id } = parse(ConsultationIdParam, req.params);
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
    return reply.code(204).send();
  });
}
