// The staff patient search's rule (issue 14): names by substring ignoring case and accents, MRNs
// by a prefix of at least three characters, LIKE wildcards literal, allowlisted sort orders
// with an id tiebreak and a total on every page.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';

interface Summary {
  id: string;
  mrn: string;
  familyName: string;
  givenName: string;
  updatedAt: string;
}
interface Page {
  patients: Summary[];
  total: number;
  nextCursor: string | null;
}

describeClinic('patient search rule', (clinic) => {
  let clinician: Actor;
  // Unique per run, letters only so the name rule (not the MRN rule) is what matches.
  const tag = `Zq${String.fromCharCode(97 + (process.pid % 26))}${Date.now().toString(36).replace(/\d/g, '')}`;
  const mrnTag = `S${process.pid}${Date.now() % 100000}`;

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    await clinic.organization({ members: [[clinician, 'clinician']] });
  });

  async function create(familyName: string, givenName: string, mrn: string): Promise<Summary> {
    const response = await clinic.call(clinician, 'POST', '/api/patients', {
      mrn,
      givenName,
      familyName,
      birthDate: '1980-01-01',
      sex: 'unknown',
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ patient: Summary }>().patient;
  }
  const searchResponse = (body: Record<string, unknown>) =>
    clinic.call(clinician, 'POST', '/api/patients/search', body);
  async function search(body: Record<string, unknown>): Promise<Page> {
    const response = await searchResponse(body);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Page>();
  }
  const ids = (page: Page) => page.patients.map((p) => p.id).sort();

  it('finds names by any part, ignoring case and accents, every word matching', async () => {
    const muller = await create(`Müller${tag}`, 'Zoë', `${mrnTag}-1`);
    const other = await create(`Berg${tag}`, 'Zoe', `${mrnTag}-2`);
    await create(`Other${tag}`, 'Ann', `${mrnTag}-3`);

    expect(ids(await search({ name: `ULLER${tag}` }))).toEqual([muller.id]);
    expect(ids(await search({ name: `${tag} zoe` }))).toEqual([muller.id, other.id].sort());
    expect(ids(await search({ name: `zoë, müll${tag.slice(0, 0)}` }))).toEqual([muller.id]);
    const both = await search({ name: tag.toUpperCase() });
    expect(both.total).toBe(3);
    // LIKE wildcards and the escape character are literal characters.
    for (const name of ['%', '_', '\\', `${tag}%`, `M_ller${tag}`]) {
      expect((await search({ name })).patients, name).toEqual([]);
    }
  });

  it('finds MRNs by a prefix of three or more characters; shorter must be the whole MRN', async () => {
    const a = await create(`Mrn${tag}`, 'One', `${mrnTag}-M10`);
    const b = await create(`Mrn${tag}`, 'Two', `${mrnTag}-M11`);
    expect(ids(await search({ mrn: `${mrnTag}-m1` }))).toEqual([a.id, b.id].sort());
    expect(ids(await search({ mrn: `${mrnTag}-M11` }))).toEqual([b.id]);
    // Two characters are not a prefix search.
    expect((await search({ mrn: mrnTag.slice(0, 2) })).patients).toEqual([]);
  });

  it('sorts by MRN or last update, either direction, paging with a total on every page', async () => {
    const sortTag = `So${tag}`;
    const made: Summary[] = [];
    for (const n of [3, 1, 4, 2]) made.push(await create(sortTag, `G${n}`, `${mrnTag}-S${n}`));
    const pages = async (body: Record<string, unknown>) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await search({ ...body, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.total).toBe(4);
        seen.push(...page.patients.map((p) => p.mrn));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return seen;
    };
    const byMrn = [1, 2, 3, 4].map((n) => `${mrnTag}-S${n}`);
    expect(await pages({ name: sortTag, sort: 'mrn' })).toEqual(byMrn);
    expect(await pages({ name: sortTag, sort: 'mrn', direction: 'desc' })).toEqual(
      [...byMrn].reverse(),
    );
    const byUpdate = made.map((p) => p.mrn);
    expect(await pages({ name: sortTag, sort: 'updated', direction: 'desc' })).toEqual(
      [...byUpdate].reverse(),
    );
  });

  it('accepts only the listed sort orders (no column names or SQL reach ORDER BY)', async () => {
    for (const sort of ['family_name', 'name; drop table patients', 'id']) {
      expect((await searchResponse({ sort })).statusCode, sort).toBe(400);
    }
    expect((await searchResponse({ direction: 'sideways' })).statusCode).toBe(400);
  });
});
