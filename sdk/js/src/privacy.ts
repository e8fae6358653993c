/** The checks that decide whether a page may be tracked at all. */

/** Do Not Track, in its historical spellings, or Global Privacy Control. */
export function wantsNoTracking(nav: Navigator, win: Window): boolean {
  const n = nav as Navigator & { msDoNotTrack?: string; globalPrivacyControl?: boolean };
  const dnt = n.doNotTrack || (win as Window & { doNotTrack?: string }).doNotTrack || n.msDoNotTrack;
  return dnt === "1" || dnt === "yes" || n.globalPrivacyControl === true;
}

/** A page on the developer's own machine, which is never counted unless the site asks. */
export function isLocalPage(loc: Location): boolean {
  return (
    loc.protocol === "file:" ||
    /^(?:localhost|127(?:\.\d+){3}|\[::1\]|.*\.localhost)$/.test(loc.hostname)
  );
}
