/**
 * A file dropped anywhere but on an upload area would make the browser open it in Haven's place:
 * the uploads under way stop and anything typed (kept drafts live in memory) is gone. The page
 * refuses such drops; an upload area or a file input, which take their own, are left alone.
 */
import { useEffect } from 'react';

const carriesFiles = (event: DragEvent): boolean =>
  event.dataTransfer?.types.includes('Files') ?? false;

/** A file input takes a dropped file as its own choice (the browser's default action there). */
const isFileInput = (target: EventTarget | null): boolean =>
  target instanceof HTMLInputElement && target.type === 'file';

/** Refuses file drops outside upload areas for as long as the app is mounted. */
export function useFileDropGuard(): void {
  useEffect(() => {
    const refuse = (event: DragEvent) => {
      // An upload area took it first (its handler prevented the default): its drop stands.
      if (event.defaultPrevented || !carriesFiles(event) || isFileInput(event.target)) return;
      event.preventDefault();
      // The pointer says "not here" instead of promising a drop that will not happen.
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'none';
    };
    window.addEventListener('dragover', refuse);
    window.addEventListener('drop', refuse);
    return () => {
      window.removeEventListener('dragover', refuse);
      window.removeEventListener('drop', refuse);
    };
  }, []);
}
