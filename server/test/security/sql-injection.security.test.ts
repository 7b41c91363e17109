// V2: every value reaches SQL as a bound parameter (Kysely), never as SQL text. The patient
// search is the widest door a value has into a query (free text, turned into a LIKE pattern),
// so injection payloads go through it and through a stored record, on both engines.
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';

const PAYLOADS = [
  "' OR '1'='1",
  "x') OR (1=1) --",
  "'; DROP TABLE patients; --",
  "\\'; SELECT pg_sleep(5); --",
  "O'Brien' UNION SELECT id FROM users --",
];

describeClinic('V2 query parameters', (clinic) => {
  let clinician: Actor;
  let organizationId: string;

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
    await clinic.patient(organizationId, { givenName: 'Siobhan', familyName: "O'Brien" });
    await clinic.patient(organizationId, { givenName: 'Ada', familyName: 'Lovelace' });
  });

  async function searchNames(name: string): Promise<string[]> {
    const response = await clinic.call(clinician, 'POST', '/api/patients/search', { name });
    expect(response.statusCode, response.body).toBe(200);
    return response
      .json<{ patients: Array<{ familyName: string }> }>()
      .patients.map((patient) => patient.familyName);
  }

  it('V2/SQL injection: quote, comment and UNION payloads in the search box are searched for as text and match nothing', async () => {
    for (const payload of PAYLOADS) {
      expect(await searchNames(payload), payload).toEqual([]);
    }
    // Both patients, and the tables, are still there.
    expect((await searchNames('lovelace')).length).toBe(1);
    const { rows } = await sql<{
      count: string | number;
    }>`SELECT count(*) AS count FROM patients`.execute(clinic.db);
    expect(Number(rows[0]?.count)).toBe(2);
  });

  it("V2: a name with a quote is found by its own text (O'Brien), exactly once", async () => {
    expect(await searchNames("o'bri")).toEqual(["O'Brien"]);
  });

  it('V2/SQL injection: a payload stored as a name comes back byte for byte and stays inert', async () => {
    const created = await clinic.call(clinician, 'POST', '/api/patients', {
      mrn: `V2-${process.pid}`,
      givenName: 'Robert',
      familyName: "Tables'); DROP TABLE patients; --",
      birthDate: '1990-01-01',
      sex: 'male',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { patient } = created.json<{ patient: { id: string; familyName: string } }>();
    expect(patient.familyName).toBe("Tables'); DROP TABLE patients; --");
    expect(await searchNames("Tables'); DROP")).toEqual(["Tables'); DROP TABLE patients; --"]);
    const read = await clinic.call(clinician, 'GET', `/api/patients/${patient.id}`);
    expect(read.json<{ patient: { familyName: string } }>().patient.familyName).toBe(
      "Tables'); DROP TABLE patients; --",
    );
  });
});
