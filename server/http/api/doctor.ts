// /api/doctor/*: a doctor's own consultations. Doctors only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, consultationView, userOf, type ApiDeps } from './common.ts';
import { route } from './route.ts';

/** [start of today, start of tomorrow) in the server's local time. */
export function today(now = new Date()): { from: number; to: number } {
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setDate(end.getDate() + 1);
  return { from: start.getTime(), to: end.getTime() };
}

export function doctorRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { consultations } = deps.stores;

  route(app, deps.stores, 'myConsultations', async ({ query }, req) => {
    const { from, to } = query.from !== undefined && query.to !== undefined ? { from: query.from, to: query.to } : today();
    const now = Date.now();
    return {
      from,
      to,
      consultations: (await consultations.listForDoctor(userOf(req).id, from, to)).map((c) => consultationView(c, deps, now)),
    };
  });

  const own = async (id: string, req: FastifyRequest) => {
    const c = await consultations.get(id);
    if (!c) throw new ApiError(404, 'not-found', 'no such consultation');
    if (c.doctorId !== userOf(req).id) throw new ApiError(403, 'forbidden', 'not your consultation');
    return c;
  };

  route(app, deps.stores, 'myConsultation', async ({ params: { id } }, req) => ({ consultation: consultationView(await own(id, req), deps) }));

  // The patient link is the doctor's to make: a new token here, the room
  // secret drawn by the doctor's browser. Neither the admin nor the server
  // ever holds both.
  route(app, deps.stores, 'createInvitation', async ({ params: { id } }, req) => {
    const c = await own(id, req);
    if (c.status === 'ended' || Date.now() >= c.expiresAt) {
      throw new ApiError(409, 'consultation-closed', 'this consultation has ended or its time has passed');
    }
    const patientToken = await consultations.newPatientToken(c.id);
    if (!patientToken) throw new ApiError(409, 'consultation-closed', 'this consultation has ended');
    await deps.stores.audit.record(c.id, 'invited', `doctor:${userOf(req).id}`);
    deps.linkReplaced?.(c.id);
    return { patientToken };
  });
}
