import type { ReactNode } from 'react';
import type { ActiveSession } from '../auth/sessionStore';
import { AccountPage } from '../features/account';
import { AdminUsersPage } from '../features/admin';
import { AuditLogPage } from '../features/audit';
import { BreakGlassPage, BreakGlassRecordPage } from '../features/breakglass';
import { BucketsPage } from '../features/buckets';
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
      /** `id` is the path parameter of a parameterized route (a UUID). */
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

/** Routes with one id segment: `/patients/<uuid>`. */
const PARAMETERIZED: ReadonlyArray<{ prefix: string; route: Route }> = [
  {
    prefix: '/patients/',
    route: {
      access: 'signed-in',
      scope: 'patients:read',
      render: (session, id) => <PatientPage key={id} patientId={id} session={session} />,
    },
  },
  {
    prefix: '/break-glass/',
    route: {
      access: 'signed-in',
      scope: 'breakglass:request',
      render: (_session, id) => <BreakGlassRecordPage key={id} grantId={id} />,
    },
  },
  {
    prefix: '/studies/',
    route: {
      access: 'signed-in',
      scope: 'studies:read',
      render: (_session, id) => <StudyPage key={id} studyId={id} />,
    },
  },
  {
    prefix: '/reviews/',
    route: {
      access: 'signed-in',
      scope: 'reviews:read',
      render: (_session, id) => <ReviewPage key={id} studyId={id} />,
    },
  },
];

/** The route for a path and its id parameter ('' for plain routes); null when nothing matches. */
export function matchRoute(pathname: string): { route: Route; id: string } | null {
  const exact = ROUTES[pathname];
  if (exact) return { route: exact, id: '' };
  for (const { prefix, route } of PARAMETERIZED) {
    if (!pathname.startsWith(prefix)) continue;
    const id = pathname.slice(prefix.length);
    if (UUID_PATTERN.test(id)) return { route, id: id.toLowerCase() };
  }
  return null;
}
