export { FilesPage } from './FilesPage';
export { FilesSection } from './FilesSection';
