import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDNS1123Label, checkDNS1123Subdomain, checkEnvVarName, checkLabelValue, checkPortName, checkQualifiedName, isIP,
} from './dns.js';

const ok = (errs: string[]) => errs.length === 0;

describe('name syntax', () => {
  it('DNS-1123 labels', () => {
    for (const v of ['a', 'web', 'web-1', '0', 'a'.repeat(63)]) assert.ok(ok(checkDNS1123Label(v)), v);
    for (const v of ['', 'Web', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)]) assert.ok(!ok(checkDNS1123Label(v)), v);
  });
  it('DNS-1123 subdomains', () => {
    for (const v of ['a', 'web.example.com', 'a-1.b-2', 'a'.repeat(253)]) assert.ok(ok(checkDNS1123Subdomain(v)), v);
    for (const v of ['', 'A', 'a..b', '.a', 'a.', 'a_b', 'a'.repeat(254)]) assert.ok(!ok(checkDNS1123Subdomain(v)), v);
  });
  it('qualified names (label and annotation keys)', () => {
    for (const v of ['app', 'App_1.x-y', 'example.com/name', 'a/b', 'k8s.io/Name']) assert.ok(ok(checkQualifiedName(v)), v);
    for (const v of ['', '/a', 'a/', 'a/b/c', 'Example.com/a', '_a', 'a b', 'a'.repeat(64)]) assert.ok(!ok(checkQualifiedName(v)), v);
  });
  it('label values', () => {
    for (const v of ['', 'a', 'A_b.c-d', 'a'.repeat(63)]) assert.ok(ok(checkLabelValue(v)), v);
    for (const v of ['-a', 'a-', 'a b', 'a/b', 'a'.repeat(64)]) assert.ok(!ok(checkLabelValue(v)), v);
  });
  it('port names (IANA_SVC_NAME)', () => {
    for (const v of ['http', 'h2c', 'metrics-1', 'a'.repeat(15)]) assert.ok(ok(checkPortName(v)), v);
    for (const v of ['HTTP', '80', 'a--b', '-a', 'a-', 'a_b', 'a'.repeat(16)]) assert.ok(!ok(checkPortName(v)), v);
  });
  it('env var names: printable ASCII except "="', () => {
    for (const v of ['A', 'a.b-c', 'with space', '1abc', '$weird!']) assert.ok(ok(checkEnvVarName(v)), v);
    for (const v of ['A=B', 'tab\there', 'new\nline', 'é']) assert.ok(!ok(checkEnvVarName(v)), v);
  });
  it('IP addresses', () => {
    for (const v of ['127.0.0.1', '0.0.0.0', '255.255.255.255', '::1', '::', 'fe80::1', '2001:db8::8:800:200c:417a', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8']) {
      assert.ok(isIP(v), v);
    }
    for (const v of ['', '256.0.0.1', '01.0.0.1', '1.2.3', 'localhost', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '10.0.0.0/8']) {
      assert.ok(!isIP(v), v);
    }
  });
});
