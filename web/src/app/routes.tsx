import type { ReactNode } from 'react';
import type { ActiveSession } from '../auth/sessionStore';
import { AccountPage } from '../features/account/AccountPage';
import { AdminUsersPage } from '../features/admin/AdminUsersPage';
import { InvitePage } from '../features/onboarding/InvitePage';
import { SetupPage } from '../features/onboarding/SetupPage';
import { ForgotPasswordPage } from '../features/password/ForgotPasswordPage';
import { ResetPasswordPage } from '../features/password/ResetPasswordPage';
import { SignInPage } from '../features/sign-in/SignInPage';
import { ConfirmEmailPage } from '../features/verify-email/ConfirmEmailPage';
import { VerifyEmailPage } from '../features/verify-email/VerifyEmailPage';
import { HomePage } from './HomePage';

export type Route =
  | { access: 'anyone'; render: () => ReactNode }
  | { access: 'signed-in'; scope?: string; render: (session: ActiveSession) => ReactNode };

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
};
