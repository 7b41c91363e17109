/** Passwords: the forgot/reset pages and the new-password field with its strength meter. */
export { ForgotPasswordPage } from './ForgotPasswordPage';
export { NewPasswordField, newPasswordProblem } from './NewPasswordField';
export { ResetPasswordPage } from './ResetPasswordPage';
export { userInputsFor } from './usePasswordStrength';
