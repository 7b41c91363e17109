/** Sign-in: password, then the second factor or MFA enrolment, then the recovery codes. */
export { SignInPage } from './SignInPage';
