/** Break-glass: requesting and revoking emergency access, and the read-only record it opens. */
export { BreakGlassPage } from './BreakGlassPage';
export { BreakGlassRecordPage } from './BreakGlassRecordPage';
export { OpenGrantsHome } from './BreakGlassHome';
