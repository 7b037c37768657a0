import { describe, expect, it } from "vitest";
import { csvField, toCsv } from "./csv";

describe("CSV", () => {
  it("quotes what needs quoting and doubles quotes (RFC 4180)", () => {
    expect(toCsv(["sender", "messages"], [["Marta", 37], ['Sam "the man", Jr', 2], ["two\nlines", null]]))
      .toBe('sender,messages\r\nMarta,37\r\n"Sam ""the man"", Jr",2\r\n"two\nlines",\r\n');
  });

  it("defuses a name a spreadsheet would run as a formula", () => {
    expect(csvField("=HYPERLINK(\"http://x\")")).toBe("\"'=HYPERLINK(\"\"http://x\"\")\"");
    expect(csvField("+1 555")).toBe("'+1 555");
    expect(csvField("@here")).toBe("'@here");
    expect(csvField(-3)).toBe("-3");
  });
});
