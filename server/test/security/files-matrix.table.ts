// The files module's rows of the authorization matrix (Z1–Z5, F6), spread into MATRIX and PROBES
// by authorization-matrix.table.ts. files:read / files:write are held by the clinician role
// (admin of A, clinician of A, clinician of B) and the patient role (PA's and PB's portal
// accounts); admin, participant and researcher lack them (403), no credentials is 401 and the
// scopeless machine token 403. Which file a holder reaches is the `file` access kind's answer:
// the uploader; staff of the file's organization (documents:read); the patient it is attached
// to. Everyone else gets the 404 of a missing file (Z4), never 403.
//
// Only type imports from authorization-matrix.table.ts: that module spreads this one's values
// while it is still being evaluated, so a value import back would be a cycle.
//
// Routes that change state run on throwaway targets made by `prepare`, so no cell depends on
// the order of the others. HEAD /api/files/uploads/:uploadId is declared on its own (no GET
// beside it), so it is a route of its own in app.routeTable and has its row here.
//
// S3 multipart (/api/files/multipart…) runs on the same upload sessions as tus: a session is
// its uploader's alone and answers only the routes of its protocol (anyone else's, or one of
// the other protocol, is a 404). The matrix app stores files on the embedded filesystem, which
// has no presigner: starting a multipart upload and signing a part URL answer 409 CONFLICT
// ("use tus") to every holder of files:write. That 409 comes after the access decision, which
// is what those rows test; it says nothing about whose session it is.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../src/platform/db/schema.js';
import type { ObjectStorage } from '../../src/platform/storage/index.js';
import { mintSession } from '../actors.js';
import { pdfBytes, tusMetadata } from '../tus.js';
import type {
  ActorName,
  Expected,
  MatrixEntry,
  PersonName,
  Prepared,
  Probe,
  RequestSpec,
  World,
} from './authorization-matrix.table.js';

type Db = Kysely<DatabaseSchema>;

/** The files of the matrix world: built once per engine by buildFilesWorld. */
export interface FilesWorld {
  /** Clean and stored, attached to PA (in A), uploaded by A's clinician. */
  readonly patientFileId: string;
  /** Clean and stored, A's clinician's own (no patient, no organization). */
  readonly personalFileId: string;
  /** An open tus upload of A's clinician (personal). */
  readonly uploadId: string;
  /** An open S3 multipart upload of A's clinician (personal), no part recorded yet. */
  readonly multipartId: string;
}

/** Where a file or upload belongs: its owner, and the patient (with their organization) or none. */
export interface FileOwner {
  readonly ownerId: string;
  readonly patient?: { readonly patientId: string; readonly organizationId: string };
}

const FILE_BYTES = pdfBytes(400);
/** Declared size of the open uploads: larger than the one chunk the PATCH cells send. */
const UPLOAD_BYTES = 1000;

function placement(owner: FileOwner) {
  return {
    owner_id: owner.ownerId,
    patient_id: owner.patient?.patientId ?? null,
    organization_id: owner.patient?.organizationId ?? null,
  };
}

/**
 * An open upload (tus, or S3 multipart) with a real storage upload behind it, so PATCH can
 * store parts and DELETE can abort it exactly as for an upload the POST route started.
 */
export async function insertOpenUpload(
  db: Db,
  storage: ObjectStorage,
  owner: FileOwner,
  protocol: 'tus' | 's3' = 'tus',
): Promise<string> {
  const id = randomUUID();
  const key = `uploads/${id}`;
  const storageUploadId = await storage.createMultipartUpload(key, {
    contentType: 'application/pdf',
  });
  await db
    .insertInto('upload_sessions')
    .values({
      id,
      ...placement(owner),
      protocol,
      object_key: key,
      storage_upload_id: storageUploadId,
      file_name: 'matrix-upload.pdf',
      file_type: 'pdf',
      content_type: 'application/pdf',
      declared_size: UPLOAD_BYTES,
      expires_at: new Date(Date.now() + 60 * 60_000),
    })
    .execute();
  return id;
}

/**
 * A file as a finished upload leaves it (its completed session, its object in storage), with
 * the scan's verdict `status` (clean: downloadable).
 */
export async function insertStoredFile(
  db: Db,
  storage: ObjectStorage,
  owner: FileOwner,
  status: 'clean' | 'scanning' | 'quarantined' = 'clean',
): Promise<string> {
  const sessionId = randomUUID();
  const key = `uploads/${sessionId}`;
  await storage.putObject(key, Readable.from([FILE_BYTES]), {
    contentType: 'application/pdf',
    size: FILE_BYTES.length,
  });
  const now = new Date();
  await db
    .insertInto('upload_sessions')
    .values({
      id: sessionId,
      ...placement(owner),
      protocol: 'tus',
      object_key: key,
      storage_upload_id: `matrix-${sessionId}`,
      file_name: 'matrix-file.pdf',
      file_type: 'pdf',
      content_type: 'application/pdf',
      declared_size: FILE_BYTES.length,
      received_bytes: FILE_BYTES.length,
      status: 'completed',
      expires_at: new Date(now.getTime() + 60 * 60_000),
      closed_at: now,
    })
    .execute();
  const row = await db
    .insertInto('files')
    .values({
      session_id: sessionId,
      ...placement(owner),
      bucket: 'default',
      object_key: key,
      name: 'matrix-file.pdf',
      file_type: 'pdf',
      content_type: 'application/pdf',
      size: FILE_BYTES.length,
      status,
      scanned_at: status === 'scanning' ? null : now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function buildFilesWorld(
  db: Db,
  storage: ObjectStorage,
  world: {
    readonly clinicianId: string;
    readonly organizationId: string;
    readonly patientId: string;
  },
): Promise<FilesWorld> {
  const personal: FileOwner = { ownerId: world.clinicianId };
  const attached: FileOwner = {
    ownerId: world.clinicianId,
    patient: { patientId: world.patientId, organizationId: world.organizationId },
  };
  return {
    patientFileId: await insertStoredFile(db, storage, attached),
    personalFileId: await insertStoredFile(db, storage, personal),
    uploadId: await insertOpenUpload(db, storage, personal),
    multipartId: await insertOpenUpload(db, storage, personal, 's3'),
  };
}

// ---------------------------------------------------------------------------------------------
// Outcomes (the table module's own constants cannot be imported here, see above)

const UNAUTHENTICATED = { status: 401, code: 'UNAUTHENTICATED' } as const;
const FORBIDDEN = { status: 403, code: 'FORBIDDEN' } as const;
const NOT_FOUND = { status: 404, code: 'NOT_FOUND' } as const;
/** No presigner in the matrix app's storage: multipart start and part URLs are refused. */
const NO_PRESIGNER = { status: 409, code: 'CONFLICT' } as const;
/** Past access, the upload of the cell has parts missing: completing it is refused. */
const INCOMPLETE = { status: 409, code: 'CONFLICT' } as const;

/** Every person of the matrix; `satisfies` makes a new actor a compile error here. */
const PEOPLE = Object.keys({
  admin: true,
  orgAdmin: true,
  clinician: true,
  otherClinician: true,
  patientSelf: true,
  otherPatient: true,
  participant: true,
  researcher: true,
} satisfies Record<PersonName, true>) as PersonName[];

/** The holders of files:read / files:write: both clinical roles of the matrix world. */
type Holder = 'orgAdmin' | 'clinician' | 'otherClinician' | 'patientSelf' | 'otherPatient';

/** Holders get what the row says; the other people lack the scope, the rest as always. */
function files(granted: Readonly<Record<Holder, Expected>>): Record<ActorName, Expected> {
  const out = {} as Record<ActorName, Expected>;
  for (const person of PEOPLE) {
    out[person] = (granted as Partial<Record<PersonName, Expected>>)[person] ?? FORBIDDEN;
  }
  out.anonymous = UNAUTHENTICATED;
  out.machine = FORBIDDEN;
  return out;
}

/** PA's file: its uploader, A's staff and PA themself reach it; B's people get a 404. */
const patientFile = (expected: Expected): Record<ActorName, Expected> =>
  files({
    orgAdmin: expected,
    clinician: expected,
    patientSelf: expected,
    otherClinician: NOT_FOUND,
    otherPatient: NOT_FOUND,
  });

/** The uploader's alone (uploads, deleting): every other holder gets a 404. */
const uploaderOnly = (expected: Expected): Record<ActorName, Expected> =>
  files({
    orgAdmin: NOT_FOUND,
    clinician: expected,
    patientSelf: NOT_FOUND,
    otherClinician: NOT_FOUND,
    otherPatient: NOT_FOUND,
  });

/**
 * A HEAD answer has no body, so its cells can hold the status only: the problem code of a
 * refusal never reaches the client.
 */
const statusOnly = (row: Record<ActorName, Expected>): Record<ActorName, Expected> => {
  const out = {} as Record<ActorName, Expected>;
  for (const [actor, expected] of Object.entries(row) as Array<[ActorName, Expected]>) {
    out[actor] = typeof expected === 'object' ? expected.status : expected;
  }
  return out;
};

const everyHolder = (expected: Expected): Record<ActorName, Expected> =>
  files({
    orgAdmin: expected,
    clinician: expected,
    patientSelf: expected,
    otherClinician: expected,
    otherPatient: expected,
  });

// ---------------------------------------------------------------------------------------------
// Throwaway targets and requests

const storageOf = (w: World): ObjectStorage => w.app.fileServices.storage;

const clinicianOwns = (w: World): FileOwner => ({ ownerId: w.people.clinician.userId });
const attachedToPatientA = (w: World): FileOwner => ({
  ownerId: w.people.clinician.userId,
  patient: { patientId: w.patientA, organizationId: w.orgA },
});

const TUS = { 'tus-resumable': '1.0.0' } as const;

/** The clinician's own throwaway S3 multipart upload, for the cells that change it. */
const newMultipart = async (w: World): Promise<Prepared> => ({
  uploadId: await insertOpenUpload(w.db, storageOf(w), clinicianOwns(w), 's3'),
});

/** The one part of the matrix's uploads: their declared size is under the smallest part size. */
const ONLY_PART = { etag: '"abc"', size: UPLOAD_BYTES } as const;

/** tus progress is a HEAD route of its own (no GET beside it). */
const HEAD: RequestSpec['method'] = 'HEAD';

/** The link `person` gets for `fileId` from POST download-link with their own session. */
async function linkOf(w: World, person: PersonName, fileId: string): Promise<string | undefined> {
  const session = await mintSession(w.app, w.people[person]);
  const response = await w.app.inject({
    method: 'POST',
    url: `/api/files/${fileId}/download-link`,
    headers: { authorization: session.authorization },
    payload: {},
  });
  return response.statusCode === 200 ? response.json<{ url: string }>().url : undefined;
}

/** The uploader's own link: what a link that leaked to someone else looks like. */
async function clinicianLink(w: World, fileId: string): Promise<string> {
  const url = await linkOf(w, 'clinician', fileId);
  if (url === undefined) throw new Error('the clinician got no download link for their own file');
  return url;
}

/**
 * The link `actor` would use: the one they got for themselves, or, for those who cannot get
 * one, the clinician's (so the cell shows that holding a valid link is not access).
 */
async function downloadLinkFor(w: World, actor: ActorName, fileId: string): Promise<string> {
  const own =
    actor === 'anonymous' || actor === 'machine' ? undefined : await linkOf(w, actor, fileId);
  return own ?? clinicianLink(w, fileId);
}

function parsedJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Z4 on lists: a 200 names only what the caller may see. */
function listCheck(
  key: 'files' | 'uploads',
  shouldHold: (w: World, actor: ActorName) => boolean,
  id: (w: World) => string,
) {
  return (w: World, actor: ActorName, response: { statusCode: number; body: string }) => {
    if (response.statusCode !== 200) return undefined;
    const list = (parsedJson(response.body) as Record<string, Array<{ id: string }>> | undefined)?.[
      key
    ];
    if (!Array.isArray(list)) return `the answer has no ${key} list`;
    const holds = list.some((item) => item.id === id(w));
    if (holds && !shouldHold(w, actor)) return `the list shows ${id(w)}, which is not theirs`;
    if (!holds && shouldHold(w, actor)) return `the list lacks ${id(w)}`;
    return undefined;
  };
}

/**
 * A storage bucket of organization A, as POST /api/files/buckets leaves one (its credentials
 * sealed by the app's own key ring). The matrix app cannot reach S3, so the row is written
 * directly: the cells test who may see and change it, not HeadBucket (buckets.security.test.ts).
 */
export async function insertOrganizationBucket(w: World): Promise<string> {
  const id = randomUUID();
  const sealed = w.app.fileServices.buckets.sealCredentials(id, {
    accessKeyId: 'AKIAMATRIX0000000000',
    secretAccessKey: 'matrix-secret',
  });
  await w.db
    .insertInto('buckets')
    .values({
      id,
      owner_user_id: null,
      owner_organization_id: w.orgA,
      endpoint: 'https://s3.eu-central-1.amazonaws.com',
      region: 'eu-central-1',
      bucket_name: 'matrix-bucket',
      path_style: false,
      access_key_hint: '0000',
      credentials_sealed: sealed.sealed,
      credentials_key_id: sealed.keyId,
      sse_mode: 'AES256',
      kms_key_id: null,
      size_limit_bytes: null,
      created_by: w.people.orgAdmin.userId,
      updated_by: w.people.orgAdmin.userId,
    })
    .execute();
  return id;
}

// ---------------------------------------------------------------------------------------------
// The rows

export const FILES_MATRIX: Readonly<Record<string, MatrixEntry>> = {
  // tus: every upload is its uploader's own; starting one on PA's record needs patient:write.
  'POST /api/files/uploads': {
    request: (w) => ({
      method: 'POST',
      url: '/api/files/uploads',
      headers: {
        ...TUS,
        'upload-length': '100',
        'upload-metadata': tusMetadata({ filename: 'matrix.pdf', patientId: w.patientA }),
      },
    }),
    expect: patientFile(201),
  },
  'GET /api/files/uploads': {
    request: () => ({ method: 'GET', url: '/api/files/uploads' }),
    expect: everyHolder(200),
    check: listCheck(
      'uploads',
      (_w, actor) => actor === 'clinician',
      (w) => w.files.uploadId,
    ),
  },
  'PATCH /api/files/uploads/:uploadId': {
    prepare: async (w) => ({
      uploadId: await insertOpenUpload(w.db, storageOf(w), clinicianOwns(w)),
    }),
    request: (_w, _actor, p): RequestSpec => ({
      method: 'PATCH',
      url: `/api/files/uploads/${p.uploadId}`,
      headers: {
        ...TUS,
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
      },
      payload: pdfBytes(100),
    }),
    expect: uploaderOnly(204),
  },
  // tus progress; no body, hence status-only cells. Only the uploader learns the offset.
  'HEAD /api/files/uploads/:uploadId': {
    request: (w) => ({ method: HEAD, url: `/api/files/uploads/${w.files.uploadId}`, headers: TUS }),
    expect: statusOnly(uploaderOnly(200)),
  },
  'DELETE /api/files/uploads/:uploadId': {
    prepare: async (w) => ({
      uploadId: await insertOpenUpload(w.db, storageOf(w), clinicianOwns(w)),
    }),
    request: (_w, _actor, p) => ({
      method: 'DELETE',
      url: `/api/files/uploads/${p.uploadId}`,
      headers: TUS,
    }),
    expect: uploaderOnly(204),
  },

  // S3 multipart (see the top of the file for the 409s of the presigner-less storage).
  'POST /api/files/multipart': {
    request: () => ({
      method: 'POST',
      url: '/api/files/multipart',
      payload: { name: 'matrix.pdf', size: UPLOAD_BYTES },
    }),
    expect: everyHolder(NO_PRESIGNER),
  },
  // Ownership is checked first (others: 404); the uploader then meets the storage's missing
  // presigner (409).
  'POST /api/files/multipart/:uploadId/parts/:partNumber/url': {
    request: (w) => ({
      method: 'POST',
      url: `/api/files/multipart/${w.files.multipartId}/parts/1/url`,
      payload: {},
    }),
    expect: uploaderOnly(NO_PRESIGNER),
  },
  'PUT /api/files/multipart/:uploadId/parts/:partNumber': {
    prepare: newMultipart,
    request: (_w, _actor, p) => ({
      method: 'PUT',
      url: `/api/files/multipart/${p.uploadId}/parts/1`,
      payload: ONLY_PART,
    }),
    expect: uploaderOnly(200),
  },
  'GET /api/files/multipart/:uploadId/parts': {
    request: (w) => ({ method: 'GET', url: `/api/files/multipart/${w.files.multipartId}/parts` }),
    expect: uploaderOnly(200),
  },
  // The world's multipart upload has no part recorded, so the uploader gets past access to the
  // 409 of an incomplete upload (and nothing is completed, for the other cells).
  'POST /api/files/multipart/:uploadId/complete': {
    request: (w) => ({
      method: 'POST',
      url: `/api/files/multipart/${w.files.multipartId}/complete`,
      payload: {},
    }),
    expect: uploaderOnly(INCOMPLETE),
  },
  'DELETE /api/files/multipart/:uploadId': {
    prepare: newMultipart,
    request: (_w, _actor, p) => ({ method: 'DELETE', url: `/api/files/multipart/${p.uploadId}` }),
    expect: uploaderOnly(204),
  },

  // Catalog: PA's record's files for those who may read the record.
  'GET /api/files': {
    request: (w) => ({ method: 'GET', url: `/api/files?patientId=${w.patientA}` }),
    expect: patientFile(200),
    check: listCheck(
      'files',
      () => true,
      (w) => w.files.patientFileId,
    ),
  },
  'GET /api/files/usage': {
    request: () => ({ method: 'GET', url: '/api/files/usage' }),
    expect: everyHolder(200),
  },
  'GET /api/files/:fileId': {
    request: (w) => ({ method: 'GET', url: `/api/files/${w.files.patientFileId}` }),
    expect: patientFile(200),
  },
  // Only the uploader deletes: A's staff and PA may read the file but not remove it.
  'DELETE /api/files/:fileId': {
    prepare: async (w) => ({
      fileId: await insertStoredFile(w.db, storageOf(w), attachedToPatientA(w)),
    }),
    request: (_w, _actor, p) => ({ method: 'DELETE', url: `/api/files/${p.fileId}` }),
    expect: uploaderOnly(204),
  },
  'POST /api/files/:fileId/download-link': {
    request: (w) => ({
      method: 'POST',
      url: `/api/files/${w.files.patientFileId}/download-link`,
      payload: {},
    }),
    expect: patientFile(200),
  },
  // F6: the link each holder got for themselves opens the bytes; B's people, holding the
  // clinician's link, still get the 404 of a file they cannot see.
  'GET /api/files/:fileId/content': {
    prepare: async (w, actor) => ({ url: await downloadLinkFor(w, actor, w.files.patientFileId) }),
    request: (_w, _actor, p) => ({ method: 'GET', url: p.url ?? '' }),
    expect: patientFile(200),
    check: (_w, _actor, response) => {
      if (response.statusCode !== 200) return undefined;
      return response.body.startsWith('%PDF-') ? undefined : 'the body is not the stored file';
    },
  },
  // Storage buckets (F1, Z5, Z6): an organization's bucket is managed by its administrators and
  // read by its members holding files:write; everyone else gets the 404 of a missing bucket.
  'GET /api/files/buckets': {
    prepare: async (w) => ({ bucketId: await insertOrganizationBucket(w) }),
    request: () => ({ method: 'GET', url: '/api/files/buckets' }),
    expect: everyHolder(200),
  },
  'GET /api/files/buckets/:bucketId': {
    prepare: async (w) => ({ bucketId: await insertOrganizationBucket(w) }),
    request: (_w, _actor, p) => ({ method: 'GET', url: `/api/files/buckets/${p.bucketId}` }),
    expect: files({
      orgAdmin: 200,
      clinician: 200,
      patientSelf: NOT_FOUND,
      otherClinician: NOT_FOUND,
      otherPatient: NOT_FOUND,
    }),
  },
  // The upload relay of a bucket (F2, Z4): the same rule as starting an upload into it. Past
  // access, the matrix app's V5 guard refuses the bucket's host (not on its allowlist), so every
  // holder gets the 409 that says so; the relay's 200 is proven on fauxqs
  // (buckets/upload-relay.security.test.ts).
  'GET /api/files/buckets/:bucketId/upload-relay': {
    prepare: async (w) => ({ bucketId: await insertOrganizationBucket(w) }),
    request: (_w, _actor, p) => ({
      method: 'GET',
      url: `/api/files/buckets/${p.bucketId}/upload-relay`,
    }),
    expect: files({
      orgAdmin: { status: 409, code: 'CONFLICT' },
      clinician: { status: 409, code: 'CONFLICT' },
      patientSelf: NOT_FOUND,
      otherClinician: NOT_FOUND,
      otherPatient: NOT_FOUND,
    }),
  },
  // Past access (A's administrators only), the endpoint is refused by V5: 127.0.0.1 is not on
  // the matrix app's allowlist, so no cell ever reaches out.
  'POST /api/files/buckets': {
    request: (w) => ({
      method: 'POST',
      url: '/api/files/buckets',
      payload: {
        organizationId: w.orgA,
        name: 'matrix-new',
        endpoint: 'https://127.0.0.1',
        region: 'eu-central-1',
        accessKeyId: 'AKIAMATRIX0000000000',
        secretAccessKey: 'matrix-secret',
        sseMode: 'AES256',
      },
    }),
    expect: files({
      orgAdmin: { status: 400, code: 'BUCKET_ENDPOINT_FORBIDDEN' },
      clinician: FORBIDDEN,
      patientSelf: NOT_FOUND,
      otherClinician: NOT_FOUND,
      otherPatient: NOT_FOUND,
    }),
  },
  'PATCH /api/files/buckets/:bucketId': {
    prepare: async (w) => ({ bucketId: await insertOrganizationBucket(w) }),
    request: (_w, _actor, p) => ({
      method: 'PATCH',
      url: `/api/files/buckets/${p.bucketId}`,
      payload: { notes: 'Changed by the matrix.' },
    }),
    expect: files({
      orgAdmin: 200,
      clinician: NOT_FOUND,
      patientSelf: NOT_FOUND,
      otherClinician: NOT_FOUND,
      otherPatient: NOT_FOUND,
    }),
  },
  'DELETE /api/files/buckets/:bucketId': {
    prepare: async (w) => ({ bucketId: await insertOrganizationBucket(w) }),
    request: (_w, _actor, p) => ({ method: 'DELETE', url: `/api/files/buckets/${p.bucketId}` }),
    expect: files({
      orgAdmin: 204,
      clinician: NOT_FOUND,
      patientSelf: NOT_FOUND,
      otherClinician: NOT_FOUND,
      otherPatient: NOT_FOUND,
    }),
  },
};

export const FILES_PROBES: readonly Probe[] = [
  {
    name: 'Z6: the system default bucket cannot be edited, even by an organization administrator',
    route: 'PATCH /api/files/buckets/:bucketId',
    actor: 'orgAdmin',
    request: () => ({
      method: 'PATCH',
      url: '/api/files/buckets/default',
      payload: { notes: 'x' },
    }),
    expect: { status: 403, code: 'BUCKET_READ_ONLY' },
  },
  {
    name: 'Z6: the system default bucket cannot be deleted',
    route: 'DELETE /api/files/buckets/:bucketId',
    actor: 'clinician',
    request: () => ({ method: 'DELETE', url: '/api/files/buckets/default' }),
    expect: { status: 403, code: 'BUCKET_READ_ONLY' },
  },
  {
    name: "Z4: A's org admin reads the clinician's personal file (no patient: owner only)",
    route: 'GET /api/files/:fileId',
    actor: 'orgAdmin',
    request: (w) => ({ method: 'GET', url: `/api/files/${w.files.personalFileId}` }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: PA's patient reads the clinician's personal file",
    route: 'GET /api/files/:fileId',
    actor: 'patientSelf',
    request: (w) => ({ method: 'GET', url: `/api/files/${w.files.personalFileId}` }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: B's clinician lists the files of PA's record",
    route: 'GET /api/files',
    actor: 'otherClinician',
    request: (w) => ({ method: 'GET', url: `/api/files?patientId=${w.patientA}` }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: B's patient starts an upload onto PA's record",
    route: 'POST /api/files/uploads',
    actor: 'otherPatient',
    request: (w) => ({
      method: 'POST',
      url: '/api/files/uploads',
      headers: {
        ...TUS,
        'upload-length': '100',
        'upload-metadata': tusMetadata({ filename: 'planted.pdf', patientId: w.patientA }),
      },
    }),
    expect: NOT_FOUND,
  },
  // F2/Z4: a session answers only the routes of its own protocol, even to its uploader.
  {
    name: "F2: the clinician's tus upload is not found through the multipart routes",
    route: 'GET /api/files/multipart/:uploadId/parts',
    actor: 'clinician',
    request: (w) => ({ method: 'GET', url: `/api/files/multipart/${w.files.uploadId}/parts` }),
    expect: NOT_FOUND,
  },
  {
    name: "F2: the clinician's multipart upload is not found through tus HEAD",
    route: 'HEAD /api/files/uploads/:uploadId',
    actor: 'clinician',
    request: (w) => ({
      method: HEAD,
      url: `/api/files/uploads/${w.files.multipartId}`,
      headers: TUS,
    }),
    expect: 404,
  },
  {
    name: "F2: the clinician's tus upload cannot be cancelled through the multipart route",
    route: 'DELETE /api/files/multipart/:uploadId',
    actor: 'clinician',
    prepare: async (w): Promise<Prepared> => ({
      uploadId: await insertOpenUpload(w.db, storageOf(w), clinicianOwns(w)),
    }),
    request: (_w, p) => ({ method: 'DELETE', url: `/api/files/multipart/${p.uploadId}` }),
    expect: NOT_FOUND,
  },
  {
    name: "F6: a link signed for the uploader does not open the file for A's staff",
    route: 'GET /api/files/:fileId/content',
    actor: 'orgAdmin',
    prepare: async (w): Promise<Prepared> => ({
      url: await clinicianLink(w, w.files.patientFileId),
    }),
    request: (_w, p) => ({ method: 'GET', url: p.url ?? '' }),
    expect: FORBIDDEN,
  },
  {
    name: "F6: a link for PA's file does not open the clinician's personal file",
    route: 'GET /api/files/:fileId/content',
    actor: 'clinician',
    prepare: async (w): Promise<Prepared> => ({
      url: await clinicianLink(w, w.files.patientFileId),
    }),
    request: (w, p) => ({
      method: 'GET',
      url: (p.url ?? '').replace(w.files.patientFileId, w.files.personalFileId),
    }),
    expect: FORBIDDEN,
  },
];
