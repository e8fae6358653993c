/** Path hashing: id-like segments become `[id]` so dashboards group `/users/123` and `/users/456`. */

// Whole segments only: all digits, a UUID, or 16+ hex characters (Mongo ids, hashes).
const ID_SEGMENT = /^(?:\d+|[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}|[\da-f]{16,})$/i;

export function hashPath(path: string): string {
  return path
    .split("/")
    .map((segment) => (ID_SEGMENT.test(segment) ? "[id]" : segment))
    .join("/");
}
