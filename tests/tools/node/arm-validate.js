#!/usr/bin/env node
// Structural validator for ARM templates and parameters files.
//
// The official JSON schemas (schema.management.azure.com/schemas/
// 2019-04-01/deploymentTemplate.json#, deploymentParameters.json#)
// cannot be downloaded on the test machines (no internet), so this
// checks by hand what those schemas require of the document's
// structure: the required top-level members and no others, the
// contentVersion and apiVersion patterns, the parameter types, every
// resource's type/apiVersion/name, outputs with type and value; and,
// beyond the schema, what Azure checks at deployment: every
// parameters()/variables() reference defined, every parameter without a
// default given, no expression in a parameters file, dependsOn naming
// resources of the template, balanced expressions.  It is NOT the
// schema itself: the resource property schemas (Microsoft.Compute/...)
// are not checked beyond what azprep relies on.
//
// Usage: node arm-validate.js TEMPLATE [PARAMETERS]
// Prints "ok" or one line per problem; exit 0 / 1.
'use strict';
const fs = require('fs');

const problems = [];
const bad = (where, msg) => problems.push(`${where}: ${msg}`);

const TEMPLATE_KEYS = ['$schema', 'contentVersion', 'apiProfile', 'parameters',
  'variables', 'functions', 'resources', 'outputs', 'metadata'];
const PARAM_TYPES = ['string', 'securestring', 'int', 'bool', 'object',
  'secureobject', 'array'];
const PARAM_KEYS = ['type', 'defaultValue', 'allowedValues', 'metadata',
  'minValue', 'maxValue', 'minLength', 'maxLength'];
const CONTENT_VERSION = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const API_VERSION = /^((\d\d\d\d-\d\d-\d\d)|([0-9]+(\.[0-9]+)?))(-[a-zA-Z][a-zA-Z0-9]*)?$/;
const RESOURCE_TYPE = /^[A-Za-z0-9.]+\/[A-Za-z0-9]+(\/[A-Za-z0-9]+)*$/;
const FUNCTIONS = ['concat', 'parameters', 'variables', 'resourceId',
  'resourceGroup', 'subscription', 'if', 'empty', 'createObject', 'null'];

const isExpr = (s) => typeof s === 'string' && s.startsWith('[') &&
  !s.startsWith('[[') && s.endsWith(']');

function load (path) {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    bad(path, `not JSON: ${e.message}`);
    return null;
  }
}

// Check an expression's shape: balanced parentheses outside quotes,
// closed quotes, known functions; collect parameter/variable names.
function checkExpr (where, s, refs) {
  const body = s.slice(1, -1);
  let depth = 0, inq = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inq) {
      if (c === "'" && body[i + 1] === "'") i++;
      else if (c === "'") inq = false;
    } else if (c === "'") inq = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) break;
  }
  if (inq || depth !== 0) bad(where, `unbalanced expression ${s}`);
  const noStrings = body.replace(/'([^']|'')*'/g, "''");
  for (const m of noStrings.matchAll(/([A-Za-z][A-Za-z0-9]*)\s*\(/g))
    if (!FUNCTIONS.includes(m[1])) bad(where, `unknown function ${m[1]}()`);
  for (const m of body.matchAll(/\b(parameters|variables)\('([^']*)'\)/g))
    refs.push({ where, kind: m[1], name: m[2] });
}

function walk (where, v, refs) {
  if (typeof v === 'string') {
    if (isExpr(v)) checkExpr(where, v, refs);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => walk(`${where}[${i}]`, x, refs));
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) walk(`${where}.${k}`, v[k], refs);
  }
}

function validateTemplate (t) {
  if (!t || typeof t !== 'object' || Array.isArray(t))
    return bad('template', 'not an object');
  for (const k of ['$schema', 'contentVersion', 'resources'])
    if (!(k in t)) bad('template', `missing required member ${k}`);
  for (const k of Object.keys(t))
    if (!TEMPLATE_KEYS.includes(k)) bad('template', `unknown member ${k}`);
  if (typeof t.$schema !== 'string' ||
      !/^https:\/\/schema\.management\.azure\.com\/schemas\/[0-9-]+\/deploymentTemplate\.json#$/.test(t.$schema))
    bad('template.$schema', `not a deploymentTemplate schema: ${t.$schema}`);
  if (!CONTENT_VERSION.test(t.contentVersion || ''))
    bad('template.contentVersion', `bad version ${t.contentVersion}`);

  const params = t.parameters || {};
  for (const [n, p] of Object.entries(params)) {
    if (!p || typeof p !== 'object') { bad(`parameters.${n}`, 'not an object'); continue; }
    if (!PARAM_TYPES.includes(String(p.type).toLowerCase()))
      bad(`parameters.${n}.type`, `bad type ${p.type}`);
    for (const k of Object.keys(p))
      if (!PARAM_KEYS.includes(k)) bad(`parameters.${n}`, `unknown member ${k}`);
  }
  const vars = t.variables || {};

  if (!Array.isArray(t.resources)) {
    bad('template.resources', 'not an array');
  } else {
    const names = new Set();
    t.resources.forEach((r, i) => {
      const w = `resources[${i}]`;
      if (!r || typeof r !== 'object') return bad(w, 'not an object');
      for (const k of ['type', 'apiVersion', 'name'])
        if (typeof r[k] !== 'string' || !r[k]) bad(w, `missing ${k}`);
      if (r.type && !RESOURCE_TYPE.test(r.type)) bad(`${w}.type`, `bad type ${r.type}`);
      if (r.apiVersion && !API_VERSION.test(r.apiVersion))
        bad(`${w}.apiVersion`, `bad apiVersion ${r.apiVersion}`);
      if ('dependsOn' in r && (!Array.isArray(r.dependsOn) ||
          r.dependsOn.some((d) => typeof d !== 'string')))
        bad(`${w}.dependsOn`, 'not an array of strings');
      const key = `${r.type}/${r.name}`;
      if (names.has(key)) bad(w, `duplicate resource ${key}`);
      names.add(key);
    });
    // dependsOn must name resources of this template.
    t.resources.forEach((r, i) => {
      for (const d of r.dependsOn || []) {
        const m = /^\[resourceId\('([^']+)', '([^']+)'\)\]$/.exec(d);
        if (m && !names.has(`${m[1]}/${m[2]}`))
          bad(`resources[${i}].dependsOn`, `${d} is not in the template`);
      }
    });
  }
  for (const [n, o] of Object.entries(t.outputs || {}))
    if (!o || !o.type || !('value' in o || 'copy' in o))
      bad(`outputs.${n}`, 'needs type and value');

  const refs = [];
  walk('template', t, refs);
  for (const r of refs) {
    if (r.kind === 'parameters' && !(r.name in params))
      bad(r.where, `parameters('${r.name}') is not defined`);
    if (r.kind === 'variables' && !(r.name in vars))
      bad(r.where, `variables('${r.name}') is not defined`);
  }
}

function validateParameters (t, p) {
  if (!p || typeof p !== 'object') return bad('parameters file', 'not an object');
  for (const k of ['$schema', 'contentVersion', 'parameters'])
    if (!(k in p)) bad('parameters file', `missing required member ${k}`);
  for (const k of Object.keys(p))
    if (!['$schema', 'contentVersion', 'parameters'].includes(k))
      bad('parameters file', `unknown member ${k}`);
  if (typeof p.$schema !== 'string' || !/deploymentParameters\.json#$/.test(p.$schema))
    bad('parameters file.$schema', `not a deploymentParameters schema: ${p.$schema}`);
  if (!CONTENT_VERSION.test(p.contentVersion || ''))
    bad('parameters file.contentVersion', `bad version ${p.contentVersion}`);
  const given = p.parameters || {};
  const declared = (t && t.parameters) || {};
  for (const [n, v] of Object.entries(given)) {
    if (!(n in declared)) bad(`parameters file.${n}`, 'not a template parameter');
    if (!v || typeof v !== 'object' || !('value' in v || 'reference' in v))
      bad(`parameters file.${n}`, 'needs value or reference');
    else if (typeof v.value === 'string' && v.value.startsWith('['))
      bad(`parameters file.${n}`, `expressions are not evaluated in a parameters file: ${v.value}`);
    else if (declared[n] && declared[n].type === 'string' && typeof v.value !== 'string')
      bad(`parameters file.${n}`, 'is not a string');
  }
  for (const [n, d] of Object.entries(declared))
    if (!('defaultValue' in d) && !(n in given))
      bad(`parameters file`, `no value for ${n} (no default in the template)`);
}

const [tpath, ppath] = process.argv.slice(2);
if (!tpath) {
  console.error('usage: arm-validate.js TEMPLATE [PARAMETERS]');
  process.exit(2);
}
const t = load(tpath);
if (t) validateTemplate(t);
if (ppath) {
  const p = load(ppath);
  if (p) validateParameters(t, p);
}
if (problems.length) {
  for (const m of problems) console.log(m);
  process.exit(1);
}
console.log('ok');
