import { describe, expect, it } from "vitest";
import { hashPath } from "../src/paths";

describe("hashPath", () => {
  it.each([
    ["/users/123", "/users/[id]"],
    ["/users/123/orders/9", "/users/[id]/orders/[id]"],
    ["/o/550e8400-e29b-41d4-a716-446655440000/edit", "/o/[id]/edit"],
    ["/o/550E8400-E29B-41D4-A716-446655440000", "/o/[id]"],
    ["/c/507f1f77bcf86cd799439011", "/c/[id]"],
    ["/commit/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commit/[id]"],
    ["#/users/42", "#/users/[id]"],
  ])("%s -> %s", (path, hashed) => {
    expect(hashPath(path)).toBe(hashed);
  });

  it.each(["/", "", "/blog/hello-world", "/v2/api", "/cafe", "/deadbeef", "/users/123abc"])(
    "leaves %s alone",
    (path) => {
      expect(hashPath(path)).toBe(path);
    },
  );
});
