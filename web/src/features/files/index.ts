export { FilesPage } from './FilesPage';
export { FilesSection } from './FilesSection';
export { UnfinishedUploadsHome } from './FilesHome';
