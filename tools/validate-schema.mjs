#!/usr/bin/env node
// validate-schema.mjs: check JSON documents against a JSON Schema, offline.
//
//   node tools/validate-schema.mjs SCHEMA.json DOC.json [DOC.json...]
//
// Prints "DOC: valid" for each document that passes, and one line per
// error for each that does not:
//
//   DOC: <instancePath or /> <message> (<schemaPath>) [details]
//
// Exit status: 0 when every document is valid, 1 when any is invalid, and 2
// on a usage error or when the schema or a document cannot be read or parsed
// (or the schema does not compile). 2 wins over 1, so that a broken input is
// never mistaken for a merely invalid one.
//
// The schema must be strict JSON. Microsoft's connector schemas are JSONC
// and lag the service; the Go tests (tools/connector_test.go) strip their
// comments and apply named widenings before calling this script, so that
// every departure from the published schema is visible in Go, not here.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// ajv and its plugins are CommonJS packages; createRequire loads them the
// same way on every Node version the tools support (18.18 and later).
const require = createRequire(import.meta.url);
const Ajv = require("ajv").default;
const Ajv04 = require("ajv-draft-04").default;
const addFormats = require("ajv-formats").default;

const USAGE = "usage: node validate-schema.mjs SCHEMA.json DOC.json [DOC.json...]";

function readJSON(file) {
  // Returns [value, null] or [undefined, "why"].
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return [undefined, `cannot read: ${err.message}`];
  }
  // A UTF-8 byte order mark is not JSON; JSON.parse would reject it with a
  // confusing message, so name it.
  if (text.charCodeAt(0) === 0xfeff) {
    return [undefined, "cannot parse: starts with a byte order mark"];
  }
  try {
    return [JSON.parse(text), null];
  } catch (err) {
    return [undefined, `cannot parse: ${err.message}`];
  }
}

// newValidator picks the Ajv class for the draft the schema declares.
// apiDefinition.swagger.schema.json is draft-04 (the Swagger 2.0 schema),
// which plain Ajv 8 no longer implements: ajv-draft-04 does, including the
// draft-04 meaning of "id" and of boolean exclusiveMinimum/Maximum, and it
// bundles the draft-04 meta-schema that the Swagger schema $refs into.
// Anything else is compiled as draft-07, Ajv's default, which is what the
// paconn schemas declare.
function newValidator(schema) {
  const draft04 = typeof schema.$schema === "string" && schema.$schema.includes("draft-04");
  const options = {
    // Report every error, not just the first: a generator fix usually
    // needs the whole list.
    allErrors: true,
    // strict mode is for schemas one writes oneself. These are Microsoft's,
    // from 2020, and use constructs strict mode rejects, such as
    // additionalItems without items.
    strict: false,
  };
  if (!draft04 && typeof schema.id === "string") {
    // The paconn schemas declare draft-07 yet name themselves with the
    // draft-04 "id", which Ajv 8 refuses outright (even with strict off)
    // instead of ignoring. Their $refs are all local ("#/..."), so nothing
    // needs that base URI: drop it. An "id" anywhere deeper still fails to
    // compile, loudly.
    delete schema.id;
  }
  const ajv = draft04 ? new Ajv04(options) : new Ajv(options);
  // "uri" and "email" are used by the connector schemas; without
  // ajv-formats Ajv would ignore them and accept any string.
  addFormats(ajv);
  return ajv;
}

// details renders the params that say more than the message does.
function details(err) {
  const p = err.params || {};
  const parts = [];
  if (Array.isArray(p.allowedValues)) {
    parts.push(`allowed: ${p.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`);
  } else if ("allowedValue" in p) {
    parts.push(`allowed: ${JSON.stringify(p.allowedValue)}`);
  }
  for (const key of ["additionalProperty", "unevaluatedProperty", "propertyName"]) {
    if (key in p) {
      parts.push(`${key}: ${JSON.stringify(p[key])}`);
    }
  }
  if (err.keyword === "oneOf" && Array.isArray(p.passingSchemas)) {
    parts.push(`passing: ${p.passingSchemas.join(", ")}`);
  }
  return parts.length ? ` [${parts.join("; ")}]` : "";
}

function main(args) {
  if (args.length < 2 || args.includes("-h") || args.includes("--help")) {
    console.error(USAGE);
    return 2;
  }
  const [schemaFile, ...docFiles] = args;

  const [schema, schemaErr] = readJSON(schemaFile);
  if (schemaErr) {
    console.error(`${schemaFile}: ${schemaErr}`);
    return 2;
  }
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    console.error(`${schemaFile}: not a JSON Schema object`);
    return 2;
  }

  let validate;
  try {
    validate = newValidator(schema).compile(schema);
  } catch (err) {
    console.error(`${schemaFile}: schema does not compile: ${err.message}`);
    return 2;
  }

  let status = 0;
  for (const file of docFiles) {
    const [doc, docErr] = readJSON(file);
    if (docErr) {
      console.error(`${file}: ${docErr}`);
      status = 2;
      continue;
    }
    if (validate(doc)) {
      console.log(`${file}: valid`);
      continue;
    }
    for (const err of validate.errors) {
      console.log(`${file}: ${err.instancePath || "/"} ${err.message} (${err.schemaPath})${details(err)}`);
    }
    status = Math.max(status, 1);
  }
  return status;
}

process.exitCode = main(process.argv.slice(2));
