// The database's tables as TypeScript sees them (Kysely's types). The one
// definition of the schema is the migration history (migrations.ts); these
// types mirror its result and are what the stores' queries are checked against.
// Times are ms since the epoch: INTEGER in SQLite, BIGINT in PostgreSQL (read
// back as numbers: see database.ts).
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'doctor';
  password_hash: string;
  /** 0 or 1. */
  disabled: Generated<number>;
  created_at: number;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

export interface ConsultationsTable {
  id: string;
  doctor_id: string;
  patient_name: string;
  scheduled_at: number;
  status: 'scheduled' | 'waiting' | 'in_progress' | 'ended';
  created_by: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  expires_at: number;
  patient_token_hash: string;
  emptied_at: number | null;
}

export interface AuditTable {
  id: Generated<number>;
  consultation_id: string;
  event: string;
  actor: string;
  at: number;
}

export interface RejoinCredentialsTable {
  token_hash: string;
  consultation_id: string;
  participant_id: string;
  display_name: string;
  created_at: number;
  expires_at: number;
}

export interface EnrolmentsTable {
  token_hash: string;
  user_id: string;
  created_by: string;
  created_at: number;
  expires_at: number;
}

export interface Schema {
  users: UsersTable;
  sessions: SessionsTable;
  consultations: ConsultationsTable;
  audit: AuditTable;
  rejoin_credentials: RejoinCredentialsTable;
  enrolments: EnrolmentsTable;
}
