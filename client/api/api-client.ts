// The staff JSON API (cookie session). Patients never use it.
export type Role = 'admin' | 'doctor';
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
}
export type ConsultationStatus = 'scheduled' | 'waiting' | 'in_progress' | 'ended';
export interface LiveStatus {
  connected: { role: 'doctor' | 'patient'; name: string }[];
  waiting: number;
}
export interface Consultation {
  id: string;
  doctorId: string;
  doctorName?: string;
  patientName: string;
  scheduledAt: number;
  status: ConsultationStatus;
  startedAt?: number;
  endedAt?: number;
  live?: LiveStatus;
  durationMs?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiError(res.status, data.error?.code ?? 'error', data.error?.message ?? res.statusText);
  return data as T;
}

export const api = {
  me: () => call<{ user: User }>('GET', '/api/auth/me').then((r) => r.user),
  login: (email: string, password: string) => call<{ user: User }>('POST', '/api/auth/login', { email, password }).then((r) => r.user),
  logout: () => call<void>('POST', '/api/auth/logout'),
  doctors: () => call<{ doctors: User[] }>('GET', '/api/admin/doctors').then((r) => r.doctors),
  createDoctor: (d: { email: string; name: string; password: string }) =>
    call<{ user: User }>('POST', '/api/admin/doctors', d).then((r) => r.user),
  setDoctorDisabled: (id: string, disabled: boolean) =>
    call<void>('POST', `/api/admin/doctors/${encodeURIComponent(id)}/${disabled ? 'disable' : 'enable'}`),
  consultations: () => call<{ consultations: Consultation[] }>('GET', '/api/admin/consultations').then((r) => r.consultations),
  createConsultation: (c: { doctorId: string; patientName: string; scheduledAt: string }) =>
    call<{ consultation: Consultation; patientToken: string }>('POST', '/api/admin/consultations', c),
  endConsultation: (id: string) => call<void>('POST', `/api/admin/consultations/${encodeURIComponent(id)}/end`),
  myConsultations: () => call<{ consultations: Consultation[] }>('GET', '/api/doctor/consultations').then((r) => r.consultations),
};
