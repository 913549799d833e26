/**
 * `tickring/client` must load in a browser: nothing it imports at load time, however indirectly, may be a
 * Node module (`src/errors.ts` imports node:crypto, for one) or a package other than flatbuffers. `ws` may
 * only be imported lazily, for Node without a global WebSocket.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import ts from "typescript";

/** The static and the dynamic import specifiers of a compiled module. */
function importsOf(path: string): { static: string[]; dynamic: string[] } {
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
  const found = { static: [] as string[], dynamic: [] as string[] };
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.static.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.dynamic.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test("the client library imports no Node module at load time", () => {
  const entry = new URL("../../src/client/index.js", import.meta.url);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const dynamic = new Set<string>();
  const walk = (url: URL): void => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    const found = importsOf(url.pathname);
    for (const d of found.dynamic) dynamic.add(d);
    for (const spec of found.static) {
      if (spec.startsWith(".")) walk(new URL(spec, url));
      else packages.add(spec);
    }
  };
  walk(entry);
  assert.ok(seen.size > 3, `walked ${[...seen].join(", ")}`);
  assert.deepEqual([...packages], ["flatbuffers"], "packages imported at load time");
  assert.deepEqual([...dynamic], ["ws"], "packages imported lazily");
});
