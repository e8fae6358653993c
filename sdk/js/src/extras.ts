/**
 * What the tracker measures beyond page views, kept out of the core so a site that wants none of
 * it loads none of it: engaged time and scroll depth per page, outbound link clicks, file
 * downloads and uncaught errors. The npm package imports it as a chunk; the plain script loads it
 * as `script.extras.js`. Like the core it stores nothing on the device.
 */

import type { Tracker } from "./tracker";

export interface ExtrasOptions {
  /** Engaged time and scroll depth per page. Default `true`. */
  engagement?: boolean;
  /** Clicks on links to other hosts, as `Outbound Link: Click` with prop `url`. Default `false`. */
  outboundLinks?: boolean;
  /**
   * Clicks on links to files, as `File Download` with prop `url`: `true` for
   * `DOWNLOAD_EXTENSIONS`, or your own list of extensions (`["pdf", "zip"]`). Default `false`.
   */
  fileDownloads?: boolean | string[];
  /** Report uncaught errors and unhandled promise rejections. Default `false`. */
  trackErrors?: boolean;
}

/** The extensions counted as downloads unless the site gives its own (Plausible's list). */
export const DOWNLOAD_EXTENSIONS =
  "pdf xlsx docx txt rtf csv exe key pps ppt pptx 7z pkg rar gz zip avi mov mp4 mpeg wmv midi mp3 wav wma dmg iso msi".split(
    " ",
  );

/** A visitor who has not scrolled, typed, pointed or touched for this long is idle: not counted. */
export const IDLE_MS = 30_000;
/** Error messages are cut to this length (the gateway's limit is larger). */
export const MAX_MESSAGE_LENGTH = 500;

export const OUTBOUND = "Outbound Link: Click";
export const DOWNLOAD = "File Download";
export const NOT_FOUND = "404";

/** Count the current page as not found (the site's 404 page calls it). */
export const reportNotFound = (tracker: Tracker): void =>
  tracker.track(NOT_FOUND, { url: tracker.url() });

export function observeExtras(tracker: Tracker, options: ExtrasOptions): void {
  if (!tracker.enabled) return;
  const on = (type: string, listener: (event: any) => void, target: EventTarget = window) =>
    target.addEventListener(type, listener, true);

  if (options.engagement !== false) {
    let url = tracker.url();
    let total = 0;
    let since = 0;
    let depth = 0;
    let sent = 0;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const visible = (): boolean => !document.hidden;
    // Active time runs from an input while the page is visible, and stops when it is hidden or
    // IDLE_MS after the last input (counting that last stretch as reading time).
    const stop = (): void => {
      if (since) total += Date.now() - since;
      since = 0;
    };
    const active = (): void => {
      if (visible()) {
        since = since || Date.now();
        clearTimeout(idle);
        idle = setTimeout(stop, IDLE_MS);
      }
    };
    const measure = (): void => {
      const height = document.documentElement.scrollHeight;
      depth = Math.max(depth, height ? Math.min(100, Math.round(((scrollY + innerHeight) / height) * 100)) : 100);
    };
    // One event per hide or leave with the time since the previous one, so a page's sum is
    // exact; the depth is the deepest so far. Held until the core flushes on hide.
    const report = (): void => {
      stop();
      if (total || depth > sent) {
        tracker.send({ type: "engagement", url, engagedMs: total, scrollDepth: depth }, true);
      }
      total = 0;
      sent = depth;
    };
    tracker.onLeave(() => {
      report();
      url = tracker.url();
      depth = sent = 0;
      // The new route renders after the History API call: measure once it has.
      setTimeout(measure);
      active();
    });
    on("visibilitychange", () => (visible() ? active() : report()));
    on("pagehide", report);
    on("scroll", () => {
      measure();
      active();
    });
    for (const type of "keydown pointerdown pointermove touchstart".split(" ")) on(type, active);
    measure();
    active();
  }

  const downloads = options.fileDownloads;
  if (options.outboundLinks || downloads) {
    const files = new RegExp(
      `\\.(${(Array.isArray(downloads) ? downloads : downloads ? DOWNLOAD_EXTENSIONS : ["(?!)"]).join("|")})$`,
      "i",
    );
    const click = (event: MouseEvent): void => {
      const target = event.target as Element;
      const link = target.closest && (target.closest("a[href]") as HTMLAnchorElement | null);
      if (event.button > 1 || !link || !/^http/.test(link.protocol)) return;
      const name = files.test(link.pathname)
        ? DOWNLOAD
        : options.outboundLinks && link.host !== location.host && OUTBOUND;
      if (name) {
        // Without query string and fragment: they can carry the visitor's data.
        tracker.track(name, { url: link.origin + link.pathname });
        // The browser may leave the page next: a beacon sent now survives that.
        tracker.flush();
      }
    };
    on("click", click, document);
    on("auxclick", click, document);
  }

  if (options.trackErrors) {
    const report = (message: unknown, source?: string): void =>
      tracker.send({
        type: "error",
        message: String(message || "Error").slice(0, MAX_MESSAGE_LENGTH),
        url: tracker.url(),
        source,
      });
    // The script and line, never the stack (frames can carry the page's data); the script's
    // query string and fragment are dropped for the same reason.
    // Bubbling, not capturing: a failed image's `error` reaches the window only in capture.
    addEventListener("error", (event) =>
      report(event.message, event.filename && `${event.filename.split(/[?#]/)[0]}:${event.lineno}:${event.colno}`),
    );
    addEventListener("unhandledrejection", (event) => {
      const reason = event.reason as { message?: unknown } | undefined;
      report(reason && reason.message ? reason.message : reason);
    });
  }
}
