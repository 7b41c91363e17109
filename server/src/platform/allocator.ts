/**
 * glibc malloc settings that Haven's launchers give the process: the container image (its
 * `ENV`) and `npm start`. glibc reads them only when a process starts, so Haven cannot set
 * them itself; `server/test/platform/deployment-files.test.ts` keeps the launchers on this value.
 *
 * Why: every chunk Haven encrypts, decrypts or hashes (uploads, downloads, scans) and every
 * socket read of a request body is a fresh Buffer of 64 KiB to 1 MiB, and V8 frees them in
 * bursts. With glibc's defaults, buffers of 128 KiB and more are mmapped and unmapped one by
 * one, and a free burst at the top of the heap is handed back to the kernel at once, so the next
 * buffers fault their pages in again. A page fault is cheap on bare metal and costly in a
 * virtual machine (each one exits to the hypervisor): on a 2-core Firecracker VM, AES-256-GCM
 * through node:crypto ran at 1.8–3.4 ms per MiB with the defaults and at 0.33 with these
 * settings, and the bench client's plain HTTP upload went from 334 to 936–1994 MiB/s
 * (bench/README.md, "The memory allocator").
 *
 * - `mmap_threshold` 32 MiB: buffers below it come from the heap, which is reused, instead of
 *   a mapping of their own per allocation (this also stops glibc's own adjustment of it).
 * - `trim_threshold` 128 MiB: free memory at the top of the heap is returned to the kernel only
 *   beyond 128 MiB, so a freed burst is reused rather than faulted in again. The cost is memory
 *   a process may keep after a burst, bounded by this figure per heap.
 */
export const MALLOC_TUNABLES =
  'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728';
