// POST /api/patient/link-check: the patient page asks, before the camera,
// whether its link works and with whom and when. No account: the token in the
// body is the proof. An unknown consultation and a wrong token get the same
// single answer, 'invalid' (ConsultationStore.verifyPatientToken costs the
// same either way), so this is no oracle for which ids exist; per-address
// rate-limited against guessing.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './common.ts';
import { route } from './route.ts';

export function patientRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { consultations, users } = deps.stores;
  route(
    app,
    deps.stores,
    'linkCheck',
    async ({ body: { consultationId, token } }) => {
      const verdict = await consultations.verifyPatientToken(consultationId, token);
      const c = verdict === 'invalid' ? undefined : await consultations.get(consultationId);
      if (!c || verdict === 'invalid') return { state: 'invalid' as const };
      return { state: verdict, doctorName: (await users.get(c.doctorId))?.name ?? '', scheduledAt: c.scheduledAt };
    },
    deps.linkCheckPerMinute === undefined ? {} : { perMinute: deps.linkCheckPerMinute },
  );
}
