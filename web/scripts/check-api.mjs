// Fails when src/api/schema.d.ts is not what `npm run gen:api` makes of ../docs/openapi.json:
// the typed client must describe the API the gateway serves. It runs the same generator with
// the same input as gen:api (keep the two in step), into a temporary file, and compares bytes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const committed = join(web, "src", "api", "schema.d.ts");
const scratch = mkdtempSync(join(tmpdir(), "crm-console-api-"));
const fresh = join(scratch, "schema.d.ts");

try {
  const cli = join(web, "node_modules", "openapi-typescript", "bin", "cli.js");
  execFileSync(process.execPath, [cli, "../docs/openapi.json", "-o", fresh], {
    cwd: web,
    stdio: ["ignore", "ignore", "inherit"],
  });
  let current;
  try {
    current = readFileSync(committed);
  } catch {
    current = Buffer.alloc(0);
  }
  if (!current.equals(readFileSync(fresh))) {
    console.error(
      "src/api/schema.d.ts is out of date with ../docs/openapi.json: run `npm run gen:api` and commit the result.",
    );
    process.exitCode = 1;
  } else {
    console.log("src/api/schema.d.ts matches ../docs/openapi.json.");
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
