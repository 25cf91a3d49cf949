// /api/doctor/*: a doctor's own consultations. Doctors only.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, ConsultationIdParam, consultationView, IsoTime, parse, requireRole, userOf, type ApiDeps } from './common.ts';

const MAX_RANGE_MS = 31 * 24 * 60 * 60 * 1000;

const Range = z
  .strictObject({ from: IsoTime.optional(), to: IsoTime.optional() })
  .refine((q) => (q.from === undefined) === (q.to === undefined), 'give both from and to, or neither')
  .refine((q) => q.from === undefined || q.to === undefined || (q.to > q.from && q.to - q.from <= MAX_RANGE_MS), {
    message: 'to must be after from, at most 31 days later',
  });

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
  app.addHook('onRequest', requireRole(deps.stores, 'doctor'));

  app.get('/consultations', async (req) => {
    const q = parse(Range, req.query ?? {});
    const { from, to } = q.from !== undefined && q.to !== undefined ? { from: q.from, to: q.to } : today();
    const now = Date.now();
    return {
      from,
      to,
      consultations: consultations.listForDoctor(userOf(req).id, from, to).map((c) => consultationView(c, deps, now)),
    };
  });

  app.get('/consultations/:id', async (req) => {
    const { id } = parse(ConsultationIdParam, req.params);
    const c = consultations.get(id);
    if (!c) throw new ApiError(404, 'not-found', 'no such consultation');
    if (c.doctorId !== userOf(req).id) throw new ApiError(403, 'forbidden', 'not your consultation');
    return { consultation: consultationView(c, deps) };
  });
}
