import type { ReactNode } from 'react';
import type { ActiveSession } from '../auth/sessionStore';
import { AccountPage } from '../features/account';
import {
  AdminConnectedSystemsPage,
  AdminUsersPage,
  OrganizationConnectedSystemsPage,
} from '../features/admin';
import { AuditLogPage } from '../features/audit';
import { BreakGlassPage, BreakGlassRecordPage } from '../features/breakglass';
import { BucketsPage } from '../features/buckets';
import { ConnectPage, INTERACTION_UID_PATTERN } from '../features/connect';
import { FilesPage } from '../features/files';
import { InvitePage, SetupPage } from '../features/onboarding';
import { AdminOrganizationsPage, MembersPage } from '../features/organizations';
import { ForgotPasswordPage, ResetPasswordPage } from '../features/password';
import { ConsentDocumentsPage, PatientPage, PatientsPage } from '../features/patients';
import { PortalPage } from '../features/portal';
import { MyStudiesPage, ReviewPage, StudiesPage, StudyPage } from '../features/reviews';
import { SignInPage } from '../features/sign-in';
import { ConfirmEmailPage, VerifyEmailPage } from '../features/verify-email';
import { UUID_PATTERN } from '../shared/patterns';
import { HomePage } from './HomePage';

export type Route =
  | { access: 'anyone'; render: () => ReactNode }
  | {
      access: 'signed-in';
      scope?: string;
      /** `id` is the path parameter of a parameterized route (see PARAMETERIZED). */
      render: (session: ActiveSession, id: string) => ReactNode;
    };

export const ROUTES: Readonly<Record<string, Route>> = {
  '/': { access: 'anyone', render: () => <HomePage /> },
  '/sign-in': { access: 'anyone', render: () => <SignInPage /> },
  '/setup': { access: 'anyone', render: () => <SetupPage /> },
  '/invite': { access: 'anyone', render: () => <InvitePage /> },
  '/forgot-password': { access: 'anyone', render: () => <ForgotPasswordPage /> },
  '/reset-password': { access: 'anyone', render: () => <ResetPasswordPage /> },
  '/verify-email': { access: 'anyone', render: () => <VerifyEmailPage /> },
  '/confirm-email': { access: 'signed-in', render: () => <ConfirmEmailPage /> },
  '/account': { access: 'signed-in', render: (session) => <AccountPage session={session} /> },
  '/admin/users': {
    access: 'signed-in',
    scope: 'users:read',
    render: (session) => <AdminUsersPage session={session} />,
  },
  '/admin/organizations': {
    access: 'signed-in',
    scope: 'orgs:manage',
    render: () => <AdminOrganizationsPage />,
  },
  '/organization/members': {
    access: 'signed-in',
    scope: 'orgs:members',
    render: (session) => <MembersPage session={session} />,
  },
  '/admin/oauth-clients': {
    access: 'signed-in',
    scope: 'oauth:manage',
    render: () => <AdminConnectedSystemsPage />,
  },
  '/organization/connected-systems': {
    access: 'signed-in',
    scope: 'orgs:members',
    render: () => <OrganizationConnectedSystemsPage />,
  },
  '/organization/consent-documents': {
    access: 'signed-in',
    scope: 'patients:read',
    render: () => <ConsentDocumentsPage />,
  },
  '/patients': { access: 'signed-in', scope: 'patients:read', render: () => <PatientsPage /> },
  '/portal': { access: 'signed-in', scope: 'portal:read', render: () => <PortalPage /> },
  '/break-glass': {
    access: 'signed-in',
    scope: 'breakglass:request',
    render: () => <BreakGlassPage />,
  },
  '/admin/audit': { access: 'signed-in', scope: 'audit:read', render: () => <AuditLogPage /> },
  '/studies': { access: 'signed-in', scope: 'studies:read', render: () => <StudiesPage /> },
  '/reviews': { access: 'signed-in', scope: 'reviews:read', render: () => <MyStudiesPage /> },
  '/files': {
    access: 'signed-in',
    scope: 'files:read',
    render: (session) => <FilesPage session={session} />,
  },
  '/files/buckets': {
    access: 'signed-in',
    scope: 'files:write',
    render: () => <BucketsPage />,
  },
};

/** A UUID segment, lower-cased so one record has one address. */
const uuidSegment = (segment: string): string | null =>
  UUID_PATTERN.test(segment) ? segment.toLowerCase() : null;

/**
 * Routes with one id segment: `/patients/<uuid>`. `id` accepts the segment (answering the id
 * the page gets) or refuses it (null: no page there).
 */
const PARAMETERIZED: ReadonlyArray<{
  prefix: string;
  id: (segment: string) => string | null;
  route: Route;
}> = [
  {
    prefix: '/patients/',
    id: uuidSegment,
    route: {
      access: 'signed-in',
      scope: 'patients:read',
      render: (session, id) => <PatientPage key={id} patientId={id} session={session} />,
    },
  },
  {
    prefix: '/break-glass/',
    id: uuidSegment,
    route: {
      access: 'signed-in',
      scope: 'breakglass:request',
      render: (_session, id) => <BreakGlassRecordPage key={id} grantId={id} />,
    },
  },
  {
    prefix: '/studies/',
    id: uuidSegment,
    route: {
      access: 'signed-in',
      scope: 'studies:read',
      render: (_session, id) => <StudyPage key={id} studyId={id} />,
    },
  },
  {
    prefix: '/reviews/',
    id: uuidSegment,
    route: {
      access: 'signed-in',
      scope: 'reviews:read',
      render: (_session, id) => <ReviewPage key={id} studyId={id} />,
    },
  },
  {
    // A12: where the authorization endpoint sends an app's user to consent. Any signed-in user
    // may be asked; the page says which permissions their account cannot give. The id is the
    // authorization server's interaction id, case-sensitive.
    prefix: '/connect/',
    id: (segment) => (INTERACTION_UID_PATTERN.test(segment) ? segment : null),
    route: {
      access: 'signed-in',
      render: (_session, uid) => <ConnectPage key={uid} uid={uid} />,
    },
  },
];

/** The route for a path and its id parameter ('' for plain routes); null when nothing matches. */
export function matchRoute(pathname: string): { route: Route; id: string } | null {
  const exact = ROUTES[pathname];
  if (exact) return { route: exact, id: '' };
  for (const { prefix, id: accept, route } of PARAMETERIZED) {
    if (!pathname.startsWith(prefix)) continue;
    const id = accept(pathname.slice(prefix.length));
    if (id !== null) return { route, id };
  }
  return null;
}
