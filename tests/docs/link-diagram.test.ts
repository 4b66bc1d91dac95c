import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BEGIN, END, generatedBlock } from "../../scripts/link-diagram";

test("docs/link.md shows the link's transition table as it is in code", () => {
  const text = readFileSync(new URL("../../docs/link.md", import.meta.url), "utf8");
  const block = text.slice(text.indexOf(BEGIN), text.indexOf(END) + END.length);
  assert.equal(block, generatedBlock(), "run: npx tsx scripts/link-diagram.ts --write");
});
