import { describe, expect, it } from "vitest";
import type { Job } from "../api/types";
import { jobOutcome } from "./jobs";

const job = (over: Partial<Job>): Job => ({
  id: "j", collection_id: "c", filename: "f.txt", status: "succeeded", created_at: "", updated_at: "",
  progress: { stage: null, done: 0, total: 0 }, stats: null, error: null, version: 1, ...over,
} as Job);

describe("jobOutcome", () => {
  it("says what an ingest added and what was already there", () => {
    expect(jobOutcome(job({ stats: { added: 12, duplicates: 3 } }))).toBe("12 new, 3 already there");
    expect(jobOutcome(job({ stats: { added: 0 } }))).toBe("0 new, 0 already there");
  });

  it("gives a failed job's reason", () => {
    expect(jobOutcome(job({ status: "failed", error: { code: "parse_error", message: "not a chat export" } })))
      .toBe("failed: not a chat export");
  });
});
